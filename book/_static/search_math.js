/* Search snippets without raw LaTeX.

   Sphinx builds a result's snippet from the text of the page's HTML, where math is still its
   source (\(Z = XW + b\)): MathJax typesets it only on the page itself. This turns each math
   element into readable plain text (Z = XW + b, a/b, √n, λ) before the snippet is cut. */
(function () {
  "use strict";
  const SYMBOLS = {
    cdot: "·", times: "×", approx: "≈", le: "≤", leq: "≤", ge: "≥", geq: "≥", neq: "≠", ne: "≠",
    to: "→", rightarrow: "→", leftarrow: "←", sum: "Σ", prod: "Π", partial: "∂", infty: "∞", in: "∈",
    top: "⊤", pm: "±", sim: "~", ell: "ℓ", nabla: "∇", odot: "⊙", propto: "∝", ldots: "…", dots: "…",
    cdots: "…", alpha: "α", beta: "β", gamma: "γ", delta: "δ", Delta: "Δ", epsilon: "ε", varepsilon: "ε",
    eta: "η", theta: "θ", lambda: "λ", mu: "μ", pi: "π", rho: "ρ", sigma: "σ", Sigma: "Σ", tau: "τ",
    phi: "φ", psi: "ψ", omega: "ω", quad: " ", qquad: " ", left: "", right: "", big: "", Big: "",
  };

  function plainMath(tex) {
    let text = tex.trim().replace(/^\\\(|\\\)$|^\\\[|\\\]$|^\$\$?|\$\$?$/g, "");
    for (let i = 0; i < 5; i++) {  // innermost first, so nested fractions come out too
      text = text
        .replace(/\\(?:mathrm|text|mathbf|mathit|operatorname|boldsymbol|mathcal)\s*\{([^{}]*)\}/g, "$1")
        .replace(/\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g, "($1)/($2)")
        .replace(/\\sqrt\s*\{([^{}]*)\}/g, "√($1)");
    }
    text = text
      .replace(/\\([A-Za-z]+)/g, (whole, name) => (name in SYMBOLS ? SYMBOLS[name] : name))
      .replace(/\\[,;:! ]/g, " ")
      .replace(/\\\{|\\\}/g, (brace) => brace.slice(1))
      .replace(/[{}]/g, "")
      .replace(/\((\w+)\)\/\((\w+)\)/g, "$1/$2")  // (a)/(b) -> a/b for single words
      .replace(/√\((\w+)\)/g, "√$1")
      .replace(/\s+/g, " ");
    return text.trim();
  }

  function install() {
    if (typeof Search === "undefined" || Search._mathAsText) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach((el) => { el.textContent = plainMath(el.textContent); });
      return htmlToText(doc.documentElement.outerHTML, anchor);
    };
    Search._mathAsText = plainMath;  // also marks the override as installed
  }

  // Opened from a file (file://), the browser refuses to let the search page fetch the other pages
  // (CORS), so results list titles only, without snippets: say so on the search page.
  function noteFileSearch() {
    const results = document.getElementById("search-results");
    if (window.location.protocol !== "file:" || !results || document.getElementById("file-search-note")) return;
    const note = document.createElement("p");
    note.id = "file-search-note";
    note.className = "file-search-note";
    note.textContent = "This book is open as files, so your browser lets search list the matching pages' titles " +
      "only, without the text around each match. To see that text too, serve the folder: " +
      "python -m http.server --directory _build/book/html, then open http://localhost:8000/search.html.";
    results.parentNode.insertBefore(note, results);
  }

  // searchtools.js loads after this file on the search page; it starts searching on DOMContentLoaded,
  // after this listener (registered first) has run
  function start() {
    install();
    noteFileSearch();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
