// imagegate gallery: the stored images through the /v1 API, no framework and no build step.
// Every request carries the key kept in sessionStorage (when the gateway asked for one); images
// are fetched with it and shown through blob: URLs, so SVG is only ever an <img>. Text from the
// server is set with textContent, never parsed as HTML.

const KEY_STORAGE = "imagegate.apiKey";
const PAGE_SIZE = 24;
const LOADERS = 4;
const THUMBNAIL_SIDE = 320; // made once by the gateway and cached; SVG cards show the image itself
const CHILD_PAGES = 10;
const FILTERS = [["model", "filter-model"], ["since", "filter-since"], ["until", "filter-until"]];
const VIEWS = ["key-view", "list-view", "detail-view"];

const $ = (id) => document.getElementById(id);

class KeyNeeded extends Error {}
class Stale extends Error {}

const state = {
  cursors: [],        // the `before` of each newer page, to page back
  objectUrls: [],     // blob: URLs of the current view, revoked when it changes
  route: 0,           // bumped on every navigation; older loaders stop
  detail: null,       // metadata of the image in the detail view
  notice: "",         // shown once after the next navigation
  modelsLoaded: false,
};

// --- the API ------------------------------------------------------------------------------------

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE);
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = apiKey();
  if (key) headers.set("Authorization", `Bearer ${key}`);
  const response = await fetch(path, { ...init, headers, cache: "no-store", credentials: "omit" });
  if (response.ok) return response;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body.error && body.error.message) message = body.error.message;
  } catch {
    // not the JSON envelope: keep the status line
  }
  if (response.status === 401) throw new KeyNeeded(message);
  throw new Error(message);
}

async function apiJson(path, init) {
  return (await api(path, init)).json();
}

const imagePath = (id) => `v1/images/${encodeURIComponent(id)}`;

// --- images as blob: URLs -----------------------------------------------------------------------

function adopt(url, route) {
  if (route !== state.route) {
    URL.revokeObjectURL(url);
    throw new Stale();
  }
  state.objectUrls.push(url);
  return url;
}

function releaseImages() {
  state.objectUrls.forEach((url) => URL.revokeObjectURL(url));
  state.objectUrls = [];
}

async function imageSource(id, route, thumbnail = false) {
  const path = thumbnail ? `${imagePath(id)}/thumbnail?size=${THUMBNAIL_SIDE}` : `${imagePath(id)}?content=1`;
  const response = await api(path);
  return adopt(URL.createObjectURL(await response.blob()), route);
}

async function eachLimited(items, limit, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// --- views --------------------------------------------------------------------------------------

function show(view) {
  for (const id of VIEWS) $(id).hidden = id !== view;
  document.body.dataset.view = view;
}

function showMessage(id, message) {
  $(id).textContent = message;
  $(id).hidden = !message;
}

function parseHash() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const at = hash.indexOf("?");
  return at < 0 ? { path: hash, params: new URLSearchParams() }
    : { path: hash.slice(0, at), params: new URLSearchParams(hash.slice(at + 1)) };
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function listHash(params) {
  const query = params.toString();
  return query ? `#/?${query}` : "#/";
}

function clearContent() {
  releaseImages();
  $("grid").replaceChildren();
  $("detail-fields").replaceChildren();
  $("parents").replaceChildren();
  $("children").replaceChildren();
  $("detail-image").removeAttribute("src");
  state.detail = null;
}

function askForKey(message) {
  const refused = apiKey() !== null;
  sessionStorage.removeItem(KEY_STORAGE);
  clearContent();
  show("key-view");
  $("forget-key").hidden = true;
  showMessage("error", refused ? `The key was refused: ${message}` : "");
  $("key-input").focus();
}

function handle(error) {
  if (error instanceof Stale) return;
  if (error instanceof KeyNeeded) askForKey(error.message);
  else showMessage("error", error.message);
}

async function route() {
  const current = ++state.route;
  document.body.dataset.busy = "1";
  clearContent();
  showMessage("error", "");
  showMessage("notice", state.notice);
  state.notice = "";
  const { path, params } = parseHash();
  const match = path.match(/^\/image\/([^/]+)$/);
  try {
    if (match) await showDetail(decodeURIComponent(match[1]), current);
    else await showList(params, current);
  } catch (error) {
    if (current === state.route) handle(error);
  } finally {
    if (current === state.route) delete document.body.dataset.busy;
  }
}

// --- the list -----------------------------------------------------------------------------------

function nextDay(day) {
  const moment = new Date(`${day}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + 1);
  return moment.toISOString().slice(0, 10);
}

function listQuery(params) {
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const name of ["model", "since", "before"]) {
    if (params.get(name)) query.set(name, params.get(name));
  }
  if (params.get("until")) query.set("until", nextDay(params.get("until")));  // the whole "to" day
  return query;
}

function formatDate(text) {
  const moment = new Date(text);
  return Number.isNaN(moment.getTime()) ? text || "" : moment.toLocaleString();
}

function card(item) {
  const image = document.createElement("img");
  image.className = "thumb";
  image.alt = item.prompt || item.id;
  image.addEventListener("error", () => image.classList.add("broken"));
  const model = document.createElement("span");
  model.className = "card-model";
  model.textContent = item.model || "";
  const created = document.createElement("time");
  created.dateTime = item.created || "";
  created.textContent = formatDate(item.created);
  const link = document.createElement("a");
  link.href = `#/image/${encodeURIComponent(item.id)}`;
  link.append(image, model, created);
  const entry = document.createElement("li");
  entry.className = "card";
  entry.dataset.id = item.id;
  entry.dataset.svg = String(item.mime_type === "image/svg+xml");
  entry.append(link);
  return entry;
}

async function loadModelNames() {
  if (state.modelsLoaded) return;
  try {
    const models = await apiJson("v1/models");
    $("model-names").replaceChildren(...models.data.map((model) => new Option(model.id)));
    state.modelsLoaded = true;
  } catch {
    // suggestions only: the filter takes any name
  }
}

async function showList(params, current) {
  const before = params.get("before");
  const page = await apiJson(`v1/images?${listQuery(params)}`);
  if (current !== state.route) return;
  show("list-view");
  $("forget-key").hidden = !apiKey();
  for (const [name, id] of FILTERS) $(id).value = params.get(name) || "";
  const filtered = FILTERS.some(([name]) => params.get(name));
  const cards = page.data.map(card);
  $("grid").replaceChildren(...cards);
  const count = page.data.length;
  $("list-status").textContent = count
    ? `${count} image${count === 1 ? "" : "s"}${filtered ? " matching the filter" : ""}, newest first`
    : page.has_more ? "No match among the images read so far; older ones may match."
      : filtered ? "No image matches the filter." : "No images stored yet.";
  $("older").disabled = !page.has_more;
  $("older").dataset.cursor = page.last_id || "";
  $("newer").disabled = !before;
  $("page-number").textContent = before && !state.cursors.length ? "" : `Page ${state.cursors.length + 1}`;
  loadModelNames();
  await eachLimited(cards, LOADERS, async (entry) => {
    const image = entry.querySelector("img");
    try {
      image.src = await imageSource(entry.dataset.id, current, entry.dataset.svg !== "true");
    } catch (error) {
      if (error instanceof KeyNeeded || error instanceof Stale) throw error;
      image.classList.add("broken");
    }
  });
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const [name, id] of FILTERS) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  state.cursors = [];
  navigate(listHash(params));
});

$("filter-clear").addEventListener("click", () => {
  state.cursors = [];
  navigate("#/");
});

$("older").addEventListener("click", () => {
  const { params } = parseHash();
  state.cursors.push(params.get("before") || "");
  params.set("before", $("older").dataset.cursor);
  navigate(listHash(params));
});

$("newer").addEventListener("click", () => {
  const { params } = parseHash();
  const previous = state.cursors.pop();
  if (previous) params.set("before", previous);
  else params.delete("before");
  navigate(listHash(params));
});

// --- one image ----------------------------------------------------------------------------------

function usd(value) {
  return typeof value === "number" ? `$${value.toFixed(4)}` : null;
}

function costText(cost) {
  if (!cost) return "unknown";
  const actual = usd(cost.actual_usd);
  const estimated = usd(cost.estimated_usd);
  if (actual && estimated) return `${actual} (estimated ${estimated})`;
  if (actual) return actual;
  return estimated ? `${estimated} (estimated)` : "unknown";
}

function sizeText(meta) {
  const pixels = meta.width && meta.height ? `${meta.width} × ${meta.height} px` : "unknown";
  const asked = meta.parameters && meta.parameters.size;
  return asked && asked !== `${meta.width}x${meta.height}` ? `${pixels} (asked ${asked})` : pixels;
}

function bytesText(count) {
  if (typeof count !== "number") return "";
  return count < 1024 ? `${count} B` : count < 1048576 ? `${(count / 1024).toFixed(1)} KB`
    : `${(count / 1048576).toFixed(1)} MB`;
}

function detailFields(meta) {
  const provider = meta.provider ? ` (${meta.provider})` : "";
  return [
    ["Id", meta.id],
    ["Prompt", meta.prompt],
    ["Revised prompt", meta.revised_prompt],
    ["Model", meta.model && `${meta.model}${provider}`],
    ["Operation", meta.operation],
    ["Size", sizeText(meta)],
    ["File", `${meta.mime_type || ""}, ${bytesText(meta.bytes)}`],
    ["Cost", costText(meta.cost)],
    ["Created", meta.created && `${formatDate(meta.created)} (${meta.created})`],
    ["Seed", meta.seed],
    ["Request", meta.request_id],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
}

function fillLinks(list, ids) {
  const entries = ids.map((id) => {
    const link = document.createElement("a");
    link.href = `#/image/${encodeURIComponent(id)}`;
    link.textContent = id;
    const entry = document.createElement("li");
    entry.append(link);
    return entry;
  });
  if (!entries.length) {
    const none = document.createElement("li");
    none.className = "none";
    none.textContent = "none";
    entries.push(none);
  }
  list.replaceChildren(...entries);
}

async function childrenOf(id) {
  const children = [];
  let before = null;
  for (let page = 0; page < CHILD_PAGES; page++) {
    const query = new URLSearchParams({ parent: id, limit: "100" });
    if (before) query.set("before", before);
    const answer = await apiJson(`v1/images?${query}`);
    children.push(...answer.data.map((item) => item.id));
    if (!answer.has_more || !answer.last_id) break;
    before = answer.last_id;
  }
  return children;
}

async function showDetail(id, current) {
  const [meta, children] = await Promise.all([apiJson(imagePath(id)), childrenOf(id)]);
  if (current !== state.route) return;
  show("detail-view");
  $("forget-key").hidden = !apiKey();
  state.detail = meta;
  $("detail-fields").replaceChildren(...detailFields(meta).flatMap(([name, value]) => {
    const term = document.createElement("dt");
    term.textContent = name;
    const description = document.createElement("dd");
    description.textContent = String(value);
    return [term, description];
  }));
  fillLinks($("parents"), Array.isArray(meta.parent_ids) ? meta.parent_ids.map(String) : []);
  fillLinks($("children"), children);
  const image = $("detail-image");
  image.alt = meta.prompt || id;
  image.src = await imageSource(id, current);
}

$("download").addEventListener("click", async () => {
  const meta = state.detail;
  if (!meta) return;
  try {
    const blob = await (await api(`${imagePath(meta.id)}?content=1`)).blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = `${meta.id}.${meta.extension || "img"}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (error) {
    handle(error);
  }
});

$("delete").addEventListener("click", () => {
  if (!state.detail) return;
  $("confirm-id").textContent = state.detail.id;
  $("confirm-delete").showModal();
});

$("confirm-cancel").addEventListener("click", () => $("confirm-delete").close());

$("confirm-yes").addEventListener("click", async () => {
  $("confirm-delete").close();
  const meta = state.detail;
  if (!meta) return;
  try {
    await api(imagePath(meta.id), { method: "DELETE" });
    state.cursors = [];
    state.notice = `Deleted ${meta.id}.`;
    navigate("#/");
  } catch (error) {
    handle(error);
  }
});

// --- the key ------------------------------------------------------------------------------------

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  $("key-input").value = "";
  route();
});

$("forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_STORAGE);
  route();
});

window.addEventListener("hashchange", route);
route();
