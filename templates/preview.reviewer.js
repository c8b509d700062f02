// A frame of the preview showing one side of a card as Anki's reviewer does.
"use strict";

// Anki's MathJax configuration (ts/mathjax/index.ts), set before MathJax loads: only \(..\) and
// \[..\] are math, noerrors and mathtools added, textmacros removed, nothing typeset at startup.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
    processEnvironments: false,
    processRefs: false,
    packages: { "[+]": ["noerrors", "mathtools"], "[-]": ["textmacros"] },
  },
  loader: { load: ["[tex]/noerrors", "[tex]/mathtools"] },
  startup: { typeset: false },
};

let shown = Promise.resolve();

// Show a side as Anki's reviewer does (_updateQA): its HTML into #qa, then MathJax's typesetClear
// and typesetPromise on #qa. The page stays from card to card, as Anki's does. Sides are shown in
// turn: one asked for while another is typeset waits for it.
window.deckgenShow = (html, bodyClass, night) => {
  shown = shown
    .catch(() => {})
    .then(async () => {
      document.documentElement.className = night ? "night-mode" : "";
      document.body.className = bodyClass;
      const qa = document.getElementById("qa");
      qa.innerHTML = html;
      window.scrollTo(0, 0);
      await MathJax.startup.promise;
      MathJax.typesetClear();
      await MathJax.typesetPromise([qa]);
    });
  return shown;
};

// The preview's keys work while a frame has the focus too.
document.addEventListener("keydown", (event) => {
  if (window.parent !== window && window.parent.deckgenKey) window.parent.deckgenKey(event);
});
