// The preview page of `deckgen watch`: the list of cards, and the chosen card's front and back,
// each in a frame that is Anki's reviewer page (preview.reviewer.html). The page's data is the
// JSON in #deckgen-data; the server allows no inline script, so everything the page does is here.
"use strict";

const data = JSON.parse(document.getElementById("deckgen-data").textContent);
const SETTINGS = "deckgen-preview-settings"; // night mode and phone width, kept across reloads
const SEEN = "deckgen-preview-version"; // the last build this tab showed
const SCROLL = "deckgen-preview-scroll"; // where the card list was scrolled to

const settings = { night: false, phone: false, ...stored(localStorage, SETTINGS) };
const frames = [...document.querySelectorAll("iframe.side")];
const links = new Map([...document.querySelectorAll("a[data-key]")].map((a) => [a.dataset.key, a]));
const list = document.getElementById("cards");
const status = document.getElementById("status");
const builtStatus = status.textContent;

function stored(storage, name) {
  try {
    return JSON.parse(storage.getItem(name) || "{}");
  } catch {
    return {};
  }
}

function chosen() {
  let key = "";
  try {
    key = decodeURIComponent(location.hash.slice(1));
  } catch {} // a hash typed by hand: the first card
  return Object.hasOwn(data.cards, key) ? key : data.order[0];
}

function choose(key) {
  history.replaceState(null, "", `#${encodeURIComponent(key)}`);
  show();
}

// Resolve with the frame's window once its page (and MathJax) has loaded.
function loaded(frame) {
  return new Promise((resolve) => {
    const win = frame.contentWindow;
    if (win && win.deckgenShow && frame.contentDocument.readyState === "complete") resolve(win);
    else frame.addEventListener("load", () => resolve(frame.contentWindow), { once: true });
  });
}

async function show() {
  const root = document.documentElement;
  root.classList.toggle("night", settings.night);
  root.classList.toggle("phone", settings.phone);
  for (const name of ["night", "phone"]) {
    document.getElementById(name).setAttribute("aria-pressed", String(settings[name]));
  }
  const key = chosen();
  if (!key) return;
  const card = data.cards[key];
  for (const [other, link] of links) {
    if (other === key) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
  links.get(key).scrollIntoView({ block: "nearest" });
  document.getElementById("card-title").textContent = card.label;
  // Anki's classes on the reviewer's <body>: card1 for the first template or deletion, and so on.
  const bodyClass = `card card${card.ord + 1}` + (settings.night ? " nightMode night_mode" : "");
  const style = `<style>${data.styles[card.style]}</style>`; // Anki's card.question(): style, side
  await Promise.all(
    frames.map(async (frame) => {
      const win = await loaded(frame);
      await win.deckgenShow(style + card[frame.dataset.side], bodyClass, settings.night);
    }),
  );
  document.body.dataset.shown = key;
}

function toggle(name) {
  settings[name] = !settings[name];
  localStorage.setItem(SETTINGS, JSON.stringify(settings));
  show();
}

function step(by) {
  const at = data.order.indexOf(chosen());
  const next = data.order[Math.min(Math.max(at + by, 0), data.order.length - 1)];
  if (next) choose(next);
}

// Keys, from this page or from a card's frame.
window.deckgenKey = (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
  const action = {
    ArrowDown: () => step(1),
    j: () => step(1),
    ArrowUp: () => step(-1),
    k: () => step(-1),
    n: () => toggle("night"),
    p: () => toggle("phone"),
  }[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
};
document.addEventListener("keydown", window.deckgenKey);

// After a rebuild, show a card it changed, unless the one shown changed.
const seen = sessionStorage.getItem(SEEN);
if (seen && seen !== data.version && data.changed.length && !data.changed.includes(chosen())) {
  history.replaceState(null, "", `#${encodeURIComponent(data.changed[0])}`);
}
sessionStorage.setItem(SEEN, data.version);

// Reload when the watch has built again (a new version), say so when it is gone.
async function poll() {
  try {
    const response = await fetch("/version", { cache: "no-store" });
    const { version } = await response.json();
    if (version !== data.version) {
      location.reload();
      return;
    }
    status.textContent = builtStatus;
    status.classList.remove("gone");
  } catch {
    status.textContent = "not connected: is deckgen watch still running?";
    status.classList.add("gone");
  }
  setTimeout(poll, 1000);
}
setTimeout(poll, 1000);

if (list) {
  list.scrollTop = Number(sessionStorage.getItem(SCROLL) || 0);
  window.addEventListener("pagehide", () => sessionStorage.setItem(SCROLL, String(list.scrollTop)));
}
for (const name of ["night", "phone"]) {
  document.getElementById(name).addEventListener("click", () => toggle(name));
}
window.addEventListener("hashchange", show);
show();
