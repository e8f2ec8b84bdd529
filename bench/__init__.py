"""imagegate benchmark harness: a fake upstream, a bounded load generator and a comparison run.

``python -m bench.compare`` (``make bench``) measures direct-to-upstream against the gateway; see
bench/README.md.
"""
