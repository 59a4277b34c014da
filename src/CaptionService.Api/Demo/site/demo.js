// The demo page: plain browser JavaScript, no build step, no external resources.
"use strict";

const SIDE = 320;
const state = { image: null, bitmap: null, rect: null };
const $ = (id) => document.getElementById(id);

function headers() {
  const key = $("api-key").value.trim();
  return key ? { "X-API-Key": key } : {};
}

function setStatus(text) {
  $("status").textContent = text;
}

async function problemText(response) {
  try {
    const problem = await response.json();
    return `${problem.title || response.status}: ${problem.detail || ""}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// --- the image -------------------------------------------------------------------------------

async function loadExamples() {
  const list = $("example-list");
  let names = [];
  try {
    const response = await fetch("/demo/examples");
    if (response.ok) names = await response.json();
  } catch { /* no examples */ }
  if (names.length === 0) {
    $("examples").hidden = true;
    return;
  }
  for (const name of names) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "example";
    button.dataset.name = name;
    const thumbnail = document.createElement("img");
    thumbnail.src = `/demo/examples/${encodeURIComponent(name)}`;
    thumbnail.alt = "";
    const label = document.createElement("span");
    label.textContent = name.replace(/\.[a-z]+$/i, "");
    button.append(thumbnail, label);
    button.setAttribute("aria-label", `Use the example ${label.textContent}`);
    button.addEventListener("click", async () => {
      const response = await fetch(thumbnail.src);
      await useImage(await response.blob(), name);
    });
    item.append(button);
    list.append(item);
  }
}

async function useImage(blob, name) {
  state.image = blob;
  state.bitmap = null;
  clearHeat();
  $("caption").replaceChildren();
  $("figures").replaceChildren();
  $("warnings").replaceChildren();
  $("scores").replaceChildren();
  $("score-warnings").replaceChildren();
  $("alternatives").hidden = true;
  $("score-button").disabled = false;
  try {
    state.bitmap = await createImageBitmap(blob);
    drawImage();
    $("image-canvas").setAttribute("aria-label", `The chosen image: ${name}`);
  } catch {
    // The browser cannot draw it; the server may still decode it (or say why not).
    $("image-canvas").getContext("2d").clearRect(0, 0, SIDE, SIDE);
  }
  await caption(name);
}

function drawImage() {
  const canvas = $("image-canvas");
  const context = canvas.getContext("2d");
  const { width, height } = state.bitmap;
  const scale = SIDE / Math.max(width, height);
  const w = Math.round(width * scale), h = Math.round(height * scale);
  // The model sees the whole image stretched to its input size, so a map covers this rectangle.
  state.rect = { x: (SIDE - w) / 2, y: (SIDE - h) / 2, w, h };
  context.clearRect(0, 0, SIDE, SIDE);
  context.imageSmoothingEnabled = false;
  context.drawImage(state.bitmap, state.rect.x, state.rect.y, w, h);
}

// --- heat maps -------------------------------------------------------------------------------

function clearHeat() {
  $("heat-canvas").getContext("2d").clearRect(0, 0, SIDE, SIDE);
  document.querySelectorAll(".active").forEach((element) => element.classList.remove("active"));
}

// Black-red-yellow, opaque where the map peaks (as the server's /caption/heatmap PNGs).
function drawHeat(map) {
  const rect = state.rect || { x: 0, y: 0, w: SIDE, h: SIDE };
  const grid = document.createElement("canvas");
  grid.width = map.width;
  grid.height = map.height;
  const cells = grid.getContext("2d").createImageData(map.width, map.height);
  const peak = Math.max(...map.values) || 1;
  map.values.forEach((value, i) => {
    const heat = value / peak;
    cells.data[4 * i] = 255 * Math.min(1, 2 * heat);
    cells.data[4 * i + 1] = 255 * Math.max(0, 2 * heat - 1);
    cells.data[4 * i + 2] = 0;
    cells.data[4 * i + 3] = 255 * 0.7 * heat;
  });
  grid.getContext("2d").putImageData(cells, 0, 0);
  const context = $("heat-canvas").getContext("2d");
  context.clearRect(0, 0, SIDE, SIDE);
  context.imageSmoothingEnabled = true;
  context.drawImage(grid, rect.x, rect.y, rect.w, rect.h);
}

function showMapOn(element, map) {
  const show = () => { clearHeat(); element.classList.add("active"); drawHeat(map); };
  element.addEventListener("mouseenter", show);
  element.addEventListener("focus", show);
  element.addEventListener("mouseleave", clearHeat);
  element.addEventListener("blur", clearHeat);
}

// --- answers ---------------------------------------------------------------------------------

function showWarnings(container, warnings) {
  container.replaceChildren();
  if (!warnings || warnings.length === 0) return;
  const heading = document.createElement("strong");
  heading.textContent = "Warnings";
  const list = document.createElement("ul");
  for (const warning of warnings) {
    const item = document.createElement("li");
    item.dataset.code = warning.code;
    const code = document.createElement("code");
    code.textContent = warning.code;
    item.append(code, `: ${warning.message}`);
    list.append(item);
  }
  container.append(heading, list);
}

function figure(term, value) {
  const dt = document.createElement("dt");
  dt.textContent = term;
  const dd = document.createElement("dd");
  dd.textContent = value;
  $("figures").append(dt, dd);
}

async function caption(name) {
  setStatus(`Captioning ${name}…`);
  const form = new FormData();
  form.append("image", state.image, name);
  const response = await fetch("/caption?verify=true&explain=true", { method: "POST", body: form, headers: headers() });
  if (!response.ok) {
    setStatus(await problemText(response));
    return;
  }
  const answer = await response.json();
  const words = $("caption");
  words.replaceChildren();
  for (const word of answer.explanation || []) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "word";
    button.textContent = word.word;
    button.setAttribute("aria-label", `${word.word}: show where the model looked`);
    showMapOn(button, word.map);
    words.append(button);
  }
  figure("confidence", answer.confidence.toFixed(3));
  if (answer.verification !== undefined) figure("verification (fusion score)", answer.verification.toFixed(3));
  if (answer.imageDistance) figure("image distance", `${answer.imageDistance.distance.toFixed(1)} (threshold ${answer.imageDistance.threshold.toFixed(1)})`);
  const rows = $("alternatives").querySelector("tbody");
  rows.replaceChildren();
  for (const alternative of answer.alternatives) {
    const row = document.createElement("tr");
    for (const text of [alternative.caption,
      alternative.fusionScore === undefined ? "–" : alternative.fusionScore.toFixed(3),
      alternative.logProb.toFixed(2)]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.append(cell);
    }
    rows.append(row);
  }
  $("alternatives").hidden = answer.alternatives.length === 0;
  showWarnings($("warnings"), answer.warnings);
  setStatus(`Caption of ${name}: ${answer.caption}`);
}

async function score(event) {
  event.preventDefault();
  if (!state.image) return;
  const text = $("statement").value;
  const form = new FormData();
  form.append("image", state.image, "image");
  form.append("text", text);
  const response = await fetch("/score?explain=true", { method: "POST", body: form, headers: headers() });
  if (!response.ok) {
    setStatus(await problemText(response));
    return;
  }
  const answer = await response.json();
  for (const scored of answer.scores) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "score";
    const unknown = scored.unknownWords.length ? ` (unknown to the model: ${scored.unknownWords.join(", ")})` : "";
    button.textContent = `${scored.score.toFixed(3)} — ${scored.text}${unknown}`;
    button.dataset.score = scored.score;
    if (scored.evidence) showMapOn(button, scored.evidence);
    item.append(button);
    $("scores").prepend(item);
  }
  showWarnings($("score-warnings"), answer.warnings);
  setStatus(`Scored: ${text}`);
}

// --- wiring ----------------------------------------------------------------------------------

function wire() {
  const input = $("image-input");
  const zone = $("drop-zone");
  input.addEventListener("change", () => { if (input.files[0]) useImage(input.files[0], input.files[0].name); });
  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    const file = event.dataTransfer.files[0];
    if (file) useImage(file, file.name);
  });
  $("score-form").addEventListener("submit", score);
  loadExamples();
}

wire();
