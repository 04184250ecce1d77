// The facepoints page: send a photo to the API, draw what comes back. No libraries, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const POINT = "rgb(0, 255, 80)";  // the colours of facepoints.draw
const BOX = "rgb(255, 170, 0)";
const MAX_CANVAS_SIDE = 2048;

const state = {
  info: null,     // GET /healthz: schemes, filters, upload limit
  file: null,     // the chosen photo
  bitmap: null,   // the photo as the browser shows it (upright), or null if it cannot show it
  result: null,   // POST /api/detect's JSON
  filtered: null, // {blob, url, name} from POST /api/filter
  summary: "",    // what the last detection found, in words
  turn: 0,        // answers to an older photo or choice are dropped
};

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function post(path, fields) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value) form.append(name, value);
  }
  const response = await fetch(path, { method: "POST", body: form });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (_) { /* not JSON: keep the status text */ }
    throw new Error(`${detail} (HTTP ${response.status})`);
  }
  return response;
}

function stem(name) {
  return (name || "photo").replace(/\.[^.]*$/, "") || "photo";
}

function save(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function drawPhoto() {
  const canvas = $("canvas");
  const { bitmap, result } = state;
  if (!bitmap || !result) return;
  const fit = Math.min(1, MAX_CANVAS_SIDE / Math.max(bitmap.width, bitmap.height));
  canvas.width = Math.round(bitmap.width * fit);
  canvas.height = Math.round(bitmap.height * fit);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const scale = canvas.width / result.width;  // API pixels -> canvas pixels
  for (const face of result.faces) {
    const [x, y, w, h] = face.box;
    const radius = Math.max(2, Math.round(Math.max(w, h) / 90) * scale);
    context.strokeStyle = BOX;
    context.lineWidth = Math.max(1, radius / 2);
    context.strokeRect(x * scale, y * scale, w * scale, h * scale);
    context.fillStyle = POINT;
    face.keypoints.forEach(([px, py], i) => {
      context.globalAlpha = face.confidence ? Math.max(0.15, face.confidence[i]) : 1;  // unsure points fade
      context.beginPath();
      // Keypoints are pixel centres; the canvas puts pixel i's centre at i + 0.5.
      context.arc((px + 0.5) * scale, (py + 0.5) * scale, radius, 0, 2 * Math.PI);
      context.fill();
    });
    context.globalAlpha = 1;
    if (face.pose) drawPoseAxes(context, face, scale, radius);
  }
}

// The head's axes from the nose tip: red to the subject's left, green down, blue toward the camera,
// seen straight on (facepoints.pose: rotation = Rz(-roll) Ry(-yaw) Rx(-pitch)).
function drawPoseAxes(context, face, scale, width) {
  const rad = (d) => (-d * Math.PI) / 180;
  const [a, b, c] = [rad(face.pose.pitch), rad(face.pose.yaw), rad(face.pose.roll)];
  const [ca, sa, cb, sb, cc, sc] = [Math.cos(a), Math.sin(a), Math.cos(b), Math.sin(b), Math.cos(c), Math.sin(c)];
  const columns = [  // x, y of each head axis in the picture (columns of the rotation's top two rows)
    [cc * cb, sc * cb],
    [cc * sb * sa - sc * ca, sc * sb * sa + cc * ca],
    [-(cc * sb * ca + sc * sa), -(sc * sb * ca - cc * sa)],  // -z: out of the face
  ];
  const [nx, ny] = face.keypoints.length === 68 ? face.keypoints[30] : face.keypoints[0];
  const length = 0.5 * Math.max(face.box[2], face.box[3]) * scale;
  context.lineWidth = Math.max(2, width);
  ["#e53935", "#43a047", "#1e88e5"].forEach((colour, k) => {
    context.strokeStyle = colour;
    context.beginPath();
    context.moveTo((nx + 0.5) * scale, (ny + 0.5) * scale);
    context.lineTo((nx + 0.5) * scale + columns[k][0] * length, (ny + 0.5) * scale + columns[k][1] * length);
    context.stroke();
  });
}

function fillTable() {
  const body = $("table").tBodies[0];
  const rows = [];
  state.result.faces.forEach((face, f) => {
    face.keypoints.forEach(([x, y], i) => {
      const row = document.createElement("tr");
      for (const value of [f + 1, i, face.names[i], x.toFixed(2), y.toFixed(2)]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      rows.push(row);
    });
  });
  body.replaceChildren(...rows);
  $("points").hidden = rows.length === 0;
}

function showView() {
  const filtered = Boolean(state.filtered);
  $("view").hidden = !state.result || !(state.bitmap || filtered);
  $("canvas").hidden = filtered || !state.bitmap;
  $("filtered").hidden = !filtered;
  $("download-json").disabled = !state.result;
  $("download-image").disabled = !filtered;
}

async function detect() {  // true when the photo's keypoints arrived
  const turn = ++state.turn;
  state.result = null;
  showView();
  setStatus("Finding faces…");
  try {
    const response = await post("/api/detect", { image: state.file, scheme: $("scheme").value });
    const result = await response.json();
    if (turn !== state.turn) return false;
    state.result = result;
    drawPhoto();
    fillTable();
    const faces = result.faces.length;
    const points = faces ? result.faces[0].keypoints.length : 0;
    state.summary = faces ? `${faces} face${faces > 1 ? "s" : ""}, ${points} keypoints each.`
                          : "No face found in this photo.";
    setStatus(state.summary);
    showView();
    return true;
  } catch (error) {
    if (turn === state.turn) setStatus(error.message, true);
    return false;
  }
}

async function applyFilter() {
  const name = $("filter").value;
  if (state.filtered) URL.revokeObjectURL(state.filtered.url);
  state.filtered = null;
  showView();
  if (!name || !state.file) return;
  const turn = state.turn;
  setStatus(`Putting on the ${name}…`);
  try {
    const blob = await (await post("/api/filter", { image: state.file, filter: name })).blob();
    if (turn !== state.turn) return;
    const url = URL.createObjectURL(blob);
    const image = $("filtered");
    await new Promise((resolve, reject) => {
      image.onload = resolve;
      image.onerror = () => reject(new Error("the filtered image could not be shown"));
      image.src = url;
    });
    state.filtered = { blob, url, name };
    setStatus(`${state.summary} Filter: ${name}.`);
    showView();
  } catch (error) {
    if (turn === state.turn) setStatus(error.message, true);
  }
}

async function choose(file) {
  if (!file) return;
  const limit = state.info ? state.info.max_upload_bytes : Infinity;
  if (file.size > limit) {
    setStatus(`${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${limit / 1e6} MB.`, true);
    return;
  }
  state.file = file;
  if (state.bitmap) state.bitmap.close();
  try {
    state.bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (_) {
    state.bitmap = null;  // a format this browser cannot show (TIFF): the table still comes
  }
  if (await detect()) await applyFilter();
}

function wire() {
  $("photo").addEventListener("change", (event) => choose(event.target.files[0]));
  $("scheme").addEventListener("change", () => state.file && detect());
  $("filter").addEventListener("change", () => applyFilter());
  $("download-json").addEventListener("click", () => {
    const text = JSON.stringify(state.result, null, 1);
    save(new Blob([text], { type: "application/json" }), `${stem(state.file.name)}.json`);
  });
  $("download-image").addEventListener("click", () => {
    const { blob, name } = state.filtered;
    const suffix = blob.type === "image/jpeg" ? "jpg" : "png";
    save(blob, `${stem(state.file.name)}_${name}.${suffix}`);
  });
  const drop = $("drop");
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => { event.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    document.addEventListener(type, () => drop.classList.remove("over"));
  }
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files[0]);
  });
}

function option(value, text) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

async function start() {
  wire();
  try {
    state.info = await (await fetch("/healthz")).json();
    $("scheme").replaceChildren(...state.info.schemes.map((s) => option(s, s)));
    $("scheme").value = state.info.default_scheme;
    $("filter").append(...state.info.filters.map((f) => option(f, f)));
  } catch (error) {
    setStatus(`The service does not answer: ${error.message}`, true);
  }
}

start();
