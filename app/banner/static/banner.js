/* Deskguard banner. Builds every node with createElement/textContent: ticket text is never parsed as HTML.
   URL: /banner?ticket=<provider>:<id>#session=<banner session token> (the fragment never reaches a server). */
(function () {
  "use strict";
  var POLL_MS = 4000;
  var ICONS = { low: "\u2713 LOW", medium: "! MEDIUM", high: "\u25B2 HIGH", critical: "\u26D4 CRITICAL" };
  var params = new URLSearchParams(window.location.search);
  var hash = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var ticketId = params.get("ticket") || "";
  var token = hash.get("session") || "";
  var ticketText = null;
  var lastKey = "";

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function api(method, path, body) {
    var init = { method: method, headers: { Authorization: "Bearer " + token }, credentials: "omit" };
    if (body) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { var e = new Error(data.message || "Request failed"); e.code = data.code; throw e; }
        return data;
      });
    });
  }

  function q(path) { return path + "?ticket_id=" + encodeURIComponent(ticketId); }

  function textOf(field, message) {
    if (!ticketText) { return ""; }
    if (field === "subject") { return ticketText.subject; }
    var m = ticketText.messages[message === null || message === undefined ? ticketText.messages.length - 1 : message];
    return m ? m.body : "";
  }

  /* A short excerpt around the evidence span, the span wrapped in <mark> built as a DOM node. */
  function excerpt(ev) {
    var text = textOf(ev.field, ev.message);
    var start = Math.max(0, Math.min(ev.start, text.length));
    var end = Math.max(start, Math.min(ev.end, text.length));
    var from = Math.max(0, start - 40), to = Math.min(text.length, end + 40);
    var p = el("p", "excerpt");
    p.appendChild(document.createTextNode((from > 0 ? "\u2026" : "") + text.slice(from, start)));
    p.appendChild(el("mark", null, text.slice(start, end)));
    p.appendChild(document.createTextNode(text.slice(end, to) + (to < text.length ? "\u2026" : "")));
    return p;
  }

  function section(title) {
    var s = el("section", "block");
    s.appendChild(el("h2", null, title));
    return s;
  }

  function renderAssessment(a) {
    var root = document.getElementById("assessment");
    root.textContent = "";
    var level = el("div", "level level-" + a.level);
    level.setAttribute("role", "status");
    level.appendChild(el("span", "level-word", ICONS[a.level] || a.level.toUpperCase()));
    level.appendChild(el("span", "score", "score " + a.score));
    root.appendChild(level);
    root.appendChild(el("p", "headline", a.banner.headline));

    var reasons = section("Why");
    var list = el("ol", "reasons");
    var signals = (a.signals || []).slice().sort(function (x, y) { return y.points - x.points; });
    a.banner.reasons.slice(0, 3).forEach(function (reason, i) {
      var li = el("li", null);
      li.appendChild(el("span", "reason", reason));
      var sig = signals[i];
      if (sig && sig.evidence && sig.evidence.length) { li.appendChild(excerpt(sig.evidence[0])); }
      list.appendChild(li);
    });
    reasons.appendChild(list);
    root.appendChild(reasons);

    var steps = section("Required verification");
    var ul = el("ul", "steps");
    (a.required_steps || []).forEach(function (step) {
      var li = el("li", "step step-" + step.status);
      li.appendChild(el("span", "step-status", step.status === "satisfied" ? "\u2713 done" : "\u25CB " + step.status));
      li.appendChild(el("span", "step-label", step.label));
      ul.appendChild(li);
    });
    if (!a.required_steps || !a.required_steps.length) { ul.appendChild(el("li", null, "No verification required.")); }
    steps.appendChild(ul);
    root.appendChild(steps);

    if (a.forbidden && a.forbidden.length) {
      var forb = section("Do not");
      var fl = el("ul", "forbidden");
      a.forbidden.forEach(function (f) { fl.appendChild(el("li", null, "\u2716 " + f)); });
      forb.appendChild(fl);
      root.appendChild(forb);
    }
  }

  function showError(err) {
    var s = document.getElementById("status");
    s.textContent = err.code === "token_expired" ? "Session expired: reopen the ticket." : "Deskguard: " + err.message;
    s.className = "status error";
  }

  function refresh() {
    return api("GET", q("/v1/banner/assessment")).then(function (a) {
      var key = JSON.stringify([a.assessment_id, a.level, a.required_steps]);
      document.getElementById("status").textContent = "";
      document.getElementById("banner").setAttribute("aria-busy", "false");
      if (key !== lastKey) { lastKey = key; renderAssessment(a); }
    }).catch(showError);
  }

  function buildActions(main) {
    var actions = el("section", "block actions");
    var esc = el("button", "escalate", "Escalate to security");
    esc.type = "button";
    var escStatus = el("span", "note");
    esc.addEventListener("click", function () {
      api("POST", "/v1/banner/escalate", { ticket_id: ticketId })
        .then(function () { escStatus.textContent = "Escalated."; })
        .catch(function (e) { escStatus.textContent = e.message; });
    });
    actions.appendChild(esc);
    actions.appendChild(escStatus);
    main.appendChild(actions);

    var form = el("form", "block feedback");
    var fs = el("fieldset", null);
    fs.appendChild(el("legend", null, "Was this ticket an attack?"));
    [["attack", "Attack"], ["legitimate", "Legitimate"], ["unsure", "Unsure"]].forEach(function (v) {
      var label = el("label", "choice");
      var input = el("input");
      input.type = "radio"; input.name = "verdict"; input.value = v[0];
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + v[1]));
      fs.appendChild(label);
    });
    var cl = el("label", "comment-label", "Comment (optional)");
    var ta = el("textarea");
    ta.id = "feedback-comment"; ta.maxLength = 1000; ta.rows = 2;
    cl.htmlFor = "feedback-comment";
    fs.appendChild(cl);
    fs.appendChild(ta);
    form.appendChild(fs);
    var send = el("button", "send", "Send feedback");
    send.type = "submit";
    var fbStatus = el("span", "note");
    fbStatus.id = "feedback-status";
    form.appendChild(send);
    form.appendChild(fbStatus);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var chosen = form.querySelector("input[name=verdict]:checked");
      if (!chosen) { fbStatus.textContent = "Choose attack, legitimate or unsure."; return; }
      api("POST", "/v1/banner/feedback", { ticket_id: ticketId, verdict: chosen.value, comment: ta.value })
        .then(function () { fbStatus.textContent = "Thank you: feedback saved."; })
        .catch(function (e) { fbStatus.textContent = e.message; });
    });
    main.appendChild(form);
  }

  function start() {
    var main = document.getElementById("banner");
    if (!ticketId || !token) { showError({ message: "missing ticket or session" }); return; }
    main.appendChild(el("div", null)).id = "assessment";
    buildActions(main);
    api("GET", q("/v1/banner/ticket"))
      .then(function (t) { ticketText = t; })
      .catch(function () { ticketText = null; })
      .then(refresh)
      .then(function () { window.setInterval(refresh, POLL_MS); });
  }

  document.addEventListener("DOMContentLoaded", start);
})();
