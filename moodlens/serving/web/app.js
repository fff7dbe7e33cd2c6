// The page: camera frames to /api/stream over a WebSocket, faces drawn over the video as they come back;
// a photo to /api/detect, a video to /api/video (progress, then the annotated video and the records).
"use strict";

const COLORS = {  // RGB of moodlens/overlay.py's colours, so the page and detect.py agree
  angry: "#dc2828", disgust: "#288c28", fear: "#a03ca0", happy: "#f0c828",
  neutral: "#c8c8c8", sad: "#2878c8", surprise: "#ffa028",
};
const SEND_WIDTH = 640;  // frames are sent at most this wide: enough for faces, small to send
const RATE_WINDOW = 15;  // the frame rate shown is over the last answers: steady, and unbiased by jitter
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get("token");
const withToken = (url) => token ? `${url}${url.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : url;

let socket = null, stream = null, labels = [], replies = [];  // replies: arrival times of the last answers
let session = 0;  // each camera start is one session; a later start or an upload ends it
let minGap = 0, lastSent = 0;  // ms: the server takes at most --max-fps frames a second
const grab = document.createElement("canvas");

function say(text) { $("status").textContent = text; }

function faceLines(faces) {
  return faces.map((f) => `${f.emotion} ${Math.round(f.confidence * 100)}%`).join("\n");
}

function drawFaces(faces, width, height) {
  const canvas = $("overlay"), ctx = canvas.getContext("2d");
  canvas.width = width; canvas.height = height;
  const scale = Math.max(width, height) / 1000 + 0.3;
  ctx.lineWidth = Math.max(2, Math.round(scale * 2));
  ctx.font = `${Math.round(22 * scale)}px system-ui, sans-serif`;
  for (const f of faces) {
    const [x, y, w, h] = f.box, color = COLORS[f.emotion] || "#ffffff";
    const text = `${f.emotion} ${Math.round(f.confidence * 100)}%`, band = Math.round(28 * scale);
    ctx.strokeStyle = ctx.fillStyle = color;
    ctx.strokeRect(x, y, w, h);
    const top = y >= band ? y - band : y + h;
    ctx.fillRect(x, top, ctx.measureText(text).width + 8, band);
    ctx.fillStyle = "#000";
    ctx.fillText(text, x + 4, top + band * 0.78);
  }
}

function showBars(faces) {
  const largest = faces.reduce((a, f) => (!a || f.box[2] * f.box[3] > a.box[2] * a.box[3] ? f : a), null);
  $("bars").replaceChildren(...labels.map((name) => {
    const p = largest ? largest.scores[name] : 0, row = document.createElement("div");
    row.className = "bar";
    row.innerHTML = `<span>${name}</span><span class="fill"></span><span>${Math.round(p * 100)}%</span>`;
    row.children[1].style.width = `${(p * 100).toFixed(1)}%`;
    row.children[1].style.background = COLORS[name];
    return row;
  }));
}

function show(result) {
  $("stage").style.aspectRatio = `${result.width} / ${result.height}`;
  drawFaces(result.faces, result.width, result.height);
  $("faces").textContent = result.faces.length ? faceLines(result.faces) : "no face";
  showBars(result.faces);
}

async function startCamera() {
  stopCamera();
  const mine = session;
  if (!navigator.mediaDevices) { say("no camera here: the page needs https (or localhost)"); return; }
  let camera;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: 640, height: 480 } });
  } catch (e) { say(`camera: ${e.message}`); return; }
  if (mine !== session) { camera.getTracks().forEach((t) => t.stop()); return; }  // an upload came first
  stream = camera;
  const video = $("video");
  video.hidden = false;
  video.srcObject = stream;
  await video.play();
  if (mine !== session) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(withToken(`${scheme}://${location.host}/api/stream`));
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { say("live"); sendFrame(mine); };
  socket.onclose = (e) => {
    if (mine !== session) return;
    if (!replies.length) say(`the server refused the live connection${token ? "" : " (does it need ?token= in the address?)"}`);
    else say(`connection closed (${e.code}${e.reason ? ": " + e.reason : ""})`);
  };
  socket.onmessage = (e) => {
    if (mine !== session) return;  // a late answer of a stopped camera
    const reply = JSON.parse(e.data), now = performance.now();
    if (reply.error) say(reply.error); else show(reply);
    replies = [...replies.slice(-(RATE_WINDOW - 1)), now];
    if (replies.length > 1) {
      $("fps").textContent = `${((replies.length - 1) * 1000 / (now - replies[0])).toFixed(1)} frames/s`;
    }
    sendFrame(mine);  // one frame in flight: the server is never queued behind
  };
}

function sendFrame(mine) {
  if (mine !== session) return;  // that camera was stopped
  const video = $("video"), early = lastSent + minGap - performance.now();
  if (socket.readyState !== WebSocket.OPEN || !video.videoWidth || early > 0) {
    setTimeout(() => sendFrame(mine), Math.max(early, 10));
    return;
  }
  lastSent = performance.now();
  const scale = Math.min(1, SEND_WIDTH / video.videoWidth);
  grab.width = Math.round(video.videoWidth * scale);
  grab.height = Math.round(video.videoHeight * scale);
  grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
  grab.toBlob((blob) => { if (socket && socket.readyState === WebSocket.OPEN) socket.send(blob); }, "image/jpeg", 0.8);
}

function stopCamera() {
  session += 1;
  const s = socket;
  socket = null;
  if (s) s.close();
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null; replies = [];
  $("fps").textContent = "";
}

async function api(url, body) {
  const response = await fetch(url, { method: "POST", body, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

async function detectPhoto(file) {
  stopCamera();
  $("video").hidden = true;
  const form = new FormData();
  form.append("image", file);
  say(`reading ${file.name}…`);
  const result = await api("/api/detect", form);
  const image = await createImageBitmap(file);
  show(result);
  $("overlay").getContext("2d").globalCompositeOperation = "destination-over";
  $("overlay").getContext("2d").drawImage(image, 0, 0, result.width, result.height);
  say(`${file.name}: ${result.faces.length} face(s)`);
}

async function processVideo(file) {
  const form = new FormData();
  form.append("video", file);
  form.append("format", $("format").value);
  $("job").hidden = false; $("result").hidden = true; $("downloads").textContent = "";
  say(`uploading ${file.name}…`);
  let job = await api("/api/video", form);
  while (job.state === "running") {
    $("progress").value = job.progress;
    $("progress-text").textContent = `${job.frames} of ${job.total || "?"} frames`;
    await new Promise((r) => setTimeout(r, 500));
    const response = await fetch(withToken(`/api/video/${job.job}`));
    job = await response.json();
    if (!response.ok) throw new Error(job.error);
  }
  if (job.state !== "done") throw new Error(job.error);
  $("progress").value = 1;
  $("progress-text").textContent = `${job.frames} frames, a face on ${job.frames_with_face}`;
  $("result").src = withToken(job.video); $("result").hidden = false;
  $("downloads").innerHTML = `<a href="${withToken(job.video)}" download>annotated video</a> · ` +
    `<a href="${withToken(job.records)}" download>records (${job.records.split(".").pop()})</a>`;
  say(`${file.name}: done`);
}

$("file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file) return;
  try {
    await (file.type.startsWith("video/") ? processVideo(file) : detectPhoto(file));
  } catch (err) { say(err.message); }
});
$("camera").addEventListener("click", startCamera);

fetch(withToken("/api/health")).then(async (r) => {  // with --token, every route but this page wants it
  if (!r.ok) throw new Error(`${(await r.json()).error}${token ? "" : " (does it need ?token= in the address?)"}`);
  return r.json();
}).then((h) => {
  labels = h.labels;
  minGap = 1050 / h.max_fps;  // 5 % under the limit: the server counts arrivals, which jitter
  showBars([]);
  if (session === 0) startCamera();  // not over a photo or video uploaded while the page loaded
}).catch((err) => say(err.message));
