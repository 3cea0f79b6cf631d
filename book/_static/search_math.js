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

  // searchtools.js loads after this file on the search page; it starts searching on DOMContentLoaded,
  // after this listener (registered first) has run
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", install);
  else install();
})();
