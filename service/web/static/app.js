// Briefing service pages: the API key for this browser session, and the briefing form.
// Same-origin only; nothing here writes article text as HTML (pages come escaped from the
// server, and errors made here are set as text).
"use strict";

(() => {
  const KEY = "briefing-api-key";
  const body = document.body;
  const authRequired = body.dataset.auth === "required";
  const $ = (id) => document.getElementById(id);

  const storedKey = () => {
    try { return sessionStorage.getItem(KEY) || ""; } catch { return ""; }
  };
  const headers = () => {
    const key = storedKey();
    return key ? { Authorization: `Bearer ${key}` } : {};
  };

  function showKeyPanel(message) {
    if (!authRequired) return;
    const has = Boolean(storedKey());
    $("key-form").hidden = has;
    $("key-status").hidden = !has;
    const error = $("key-error");
    error.textContent = message || "";
    error.hidden = !message;
    if (!has && message) $("api-key").focus();
  }

  // Put the <main> of a page fetched with the key in place of this one's.
  function swapMain(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    const main = page.querySelector("main");
    if (!main) return false;
    $("main").replaceChildren(...Array.from(main.childNodes));
    document.title = page.title;
    return true;
  }

  // The key was refused: forget it and say so, with the API's own message.
  function keyRefused(page) {
    const note = page && page.querySelector("#key-needed");
    try { sessionStorage.removeItem(KEY); } catch { /* storage off: nothing kept */ }
    showKeyPanel(`That key was refused: ${note ? note.dataset.message : "401 Unauthorized"}`);
  }

  async function loadWithKey() {
    const note = $("key-needed");
    const intro = note ? note.textContent : "";
    if (note) note.textContent = "Loading with your API key…";
    let response;
    try {
      response = await fetch(location.href, { headers: headers(), credentials: "same-origin" });
    } catch (error) {
      if (note) note.textContent = `Could not reach the service: ${error.message}`;
      return;
    }
    const html = await response.text();
    if (response.status === 401) {
      keyRefused(new DOMParser().parseFromString(html, "text/html"));
      if (note) note.textContent = intro;
      return;
    }
    body.removeAttribute("data-needs-key");
    swapMain(html);
    $("main").focus();
  }

  function errorBox(message, code) {
    const box = document.createElement("div");
    box.className = "error";
    box.setAttribute("role", "alert");
    const text = document.createElement("p");
    text.className = "error-message";
    text.textContent = message;
    box.append(text);
    if (code) {
      const line = document.createElement("p");
      line.className = "error-code";
      line.textContent = `Error ${code}`;
      box.append(line);
    }
    return box;
  }

  // The words of an answer that is not one of our pages (a proxy, or a JSON error).
  function messageOf(response, text) {
    try {
      const error = JSON.parse(text).error;
      if (error && error.message) return [error.message, error.code];
    } catch { /* not JSON */ }
    return [`The service answered ${response.status} ${response.statusText}`.trim(), ""];
  }

  async function submitBriefing(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const result = $("result");
    if (authRequired && !storedKey()) {
      showKeyPanel("Enter an API key first: this service needs one to write briefings.");
      return;
    }
    const button = $("brief-button");
    const progress = $("progress");
    button.disabled = true;
    progress.hidden = false;
    result.setAttribute("aria-busy", "true");
    // Seconds so far: a model on a CPU can take a while, and a still page looks stuck.
    const started = Date.now();
    const elapsed = $("elapsed");
    elapsed.textContent = "";
    const ticker = setInterval(() => {
      elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`;
    }, 1000);
    try {
      const response = await fetch(form.action, {
        method: "POST",
        headers: headers(),
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
      const text = await response.text();
      const page = new DOMParser().parseFromString(text, "text/html");
      const fresh = page.querySelector("#result");
      if (response.status === 401) {
        keyRefused(page);
        result.replaceChildren(errorBox($("key-error").textContent, "unauthorized"));
      } else if (fresh && (response.headers.get("content-type") || "").startsWith("text/html")) {
        result.replaceChildren(...Array.from(fresh.childNodes));
      } else {
        result.replaceChildren(errorBox(...messageOf(response, text)));
      }
    } catch (error) {
      result.replaceChildren(errorBox(`Could not reach the service: ${error.message}`, ""));
    } finally {
      clearInterval(ticker);
      button.disabled = false;
      progress.hidden = true;
      result.removeAttribute("aria-busy");
      result.focus();
    }
  }

  // A form that changes something (a digest's build button), sent with the key; the page
  // it leads to replaces this one's <main>. Without keys such forms post as they are.
  async function submitWithKey(event, form) {
    event.preventDefault();
    if (!storedKey()) {
      showKeyPanel("Enter an API key first: this service needs one for this.");
      return;
    }
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        headers: headers(),
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
      });
    } catch (error) {
      form.replaceWith(errorBox(`Could not reach the service: ${error.message}`, ""));
      return;
    }
    const html = await response.text();
    if (response.status === 401) {
      keyRefused(new DOMParser().parseFromString(html, "text/html"));
      return;
    }
    if (!swapMain(html)) form.replaceWith(errorBox(...messageOf(response, html)));
    else $("main").focus();
  }

  function start() {
    if (authRequired) {
      // Delegated: such a form may arrive in a <main> loaded with the key.
      document.addEventListener("submit", (event) => {
        const form = event.target;
        if (form instanceof HTMLFormElement && form.matches("form[data-with-key]")) {
          submitWithKey(event, form);
        }
      });
      showKeyPanel("");
      $("key-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const key = $("api-key").value.trim();
        if (!key) return;
        try { sessionStorage.setItem(KEY, key); } catch { /* storage off */ }
        $("api-key").value = "";
        showKeyPanel("");
        if (body.dataset.needsKey) loadWithKey();
      });
      $("forget-key").addEventListener("click", () => {
        try { sessionStorage.removeItem(KEY); } catch { /* storage off */ }
        location.reload();
      });
      if (body.dataset.needsKey) {
        if (storedKey()) loadWithKey();
        else $("api-key").focus();  // the page says why; the field is where to act
      }
    }
    const form = $("brief-form");
    if (form) form.addEventListener("submit", submitBriefing);
  }

  start();
})();
