"use strict";
// Draws the review page from the JSON in #view-data. Every string from an article or a
// model goes in through textContent or a text node, never innerHTML.
(() => {
  const data = JSON.parse(document.getElementById("view-data").textContent);
  const articles = data.articles;
  const runs = data.runs;
  const state = { current: -1, selected: null, showGold: false, panes: [] };
  const $ = (id) => document.getElementById(id);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "vars") for (const [v, x] of Object.entries(value)) node.style.setProperty(v, x);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const fold = (s) => s.toLowerCase().replaceAll("ё", "е");
  const f2 = (x) => (x === null || x === undefined ? "—" : x.toFixed(2));
  const recordOf = (spanId) => spanId.slice(0, spanId.lastIndexOf("."));
  const isGold = (key) => key.startsWith("g:");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  // ------------------------------------------------------------------ list and filters

  const list = $("list");
  const filters = {
    id: $("f-id"), status: $("f-status"), side: $("f-side"), person: $("f-person"),
    gold: $("f-gold"), differ: $("f-differ"),
  };
  const sides = [...new Set(articles.flatMap((a) => a.facets.sides))].sort();
  filters.side.append(...sides.map((s) => el("option", { value: s }, s)));
  const people = [...new Set(articles.flatMap((a) => a.facets.people))].sort();
  $("people").append(...people.map((p) => el("option", { value: p })));

  function statusMark(run, n) {
    const mark = { ok: "●", failed: "✕", absent: "○" }[run.status];
    return el("span", { class: `st ${run.status}`, title: `${runs[n].name}: ${run.status}` }, mark);
  }

  function rowFacts(article) {
    const first = article.runs[0];
    const facts = [];
    if (first.status === "failed") facts.push(el("span", { class: "bad" }, `failed: ${first.failure || "error"}`));
    else if (first.status === "ok") facts.push(`${first.meetings} m · ${first.positions} p`);
    if (first.scores) {
      facts.push(` · fields F1 ${f2(first.scores.fields)}`);
      if (first.scores.missed) facts.push(" · ", el("span", { class: "bad" }, `${first.scores.missed} missed`));
      if (first.scores.spurious) facts.push(" · ", el("span", { class: "bad" }, `${first.scores.spurious} spurious`));
    }
    if (article.differ) facts.push(" · ", el("span", { class: "warn" }, `${article.differ} differ`));
    return facts;
  }

  const rows = articles.map((article, i) =>
    el("li", { tabindex: 0, "data-id": article.id, onclick: () => open(i) },
      el("div", {}, article.runs.map(statusMark), " ", el("span", { class: "id" }, article.id)),
      el("div", { class: "facts" }, rowFacts(article))));
  const fragment = document.createDocumentFragment();
  fragment.append(...rows);
  list.append(fragment);

  function matches(article) {
    const id = fold(filters.id.value.trim());
    if (id && !fold(article.id).includes(id)) return false;
    const status = filters.status.value;
    const present = article.runs.filter((r) => r.status !== "absent");
    if (status === "ok" && !present.every((r) => r.status === "ok")) return false;
    if (status === "failed" && !present.some((r) => r.status === "failed")) return false;
    if (filters.side.value && !article.facets.sides.includes(filters.side.value)) return false;
    const person = fold(filters.person.value.trim());
    if (person && !article.facets.people.some((p) => fold(p).includes(person))) return false;
    const problem = filters.gold && filters.gold.value;
    if (problem && !article.runs.some((r) => r.scores && r.scores[problem] > 0)) return false;
    if (filters.differ && filters.differ.checked && !article.differ) return false;
    return true;
  }

  function applyFilters() {
    let shown = 0;
    articles.forEach((article, i) => {
      const ok = matches(article);
      rows[i].hidden = !ok;
      shown += ok;
    });
    $("count").textContent = `${shown} of ${plural(articles.length, "article")}`;
  }
  for (const input of Object.values(filters)) {
    if (input) input.addEventListener("input", applyFilters);
  }

  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    const visible = rows.filter((r) => !r.hidden);
    const at = visible.indexOf(document.activeElement);
    const next = visible[Math.max(0, Math.min(visible.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
    if (next) {
      next.focus();
      open(rows.indexOf(next), { focusList: true });
    }
  });

  // ------------------------------------------------------------------ one article

  const main = $("article");

  function open(i, options = {}) {
    const article = articles[i];
    if (!article) return;
    if (state.current >= 0) rows[state.current].classList.remove("current");
    state.current = i;
    state.selected = null;
    rows[i].classList.add("current");
    if (!options.focusList) rows[i].scrollIntoView({ block: "nearest" });
    state.panes = article.runs.map((run, n) => ({ n, run, article }));
    main.replaceChildren(
      articleHead(article),
      toolbar(article),
      el("div", { class: `panes n${article.runs.length}` }, state.panes.map(paneView)),
    );
    history.replaceState(null, "", `#a=${encodeURIComponent(article.id)}`);
  }

  function articleHead(article) {
    const facts = [article.source, article.published && `published ${article.published}`];
    const head = el("div", { class: "article-head" },
      el("h2", {}, article.id),
      el("div", { class: "facts" }, facts.filter(Boolean).join(" · ")));
    if (article.events.length) {
      head.append(el("div", { class: "facts" }, "events: ",
        article.events.map((id, k) => [k ? ", " : "", el("a", { href: `#e=${encodeURIComponent(id)}` }, id)])));
    }
    return head;
  }

  function toolbar(article) {
    const bar = el("div", { class: "toolbar" });
    if (article.gold) {
      const box = el("input", { type: "checkbox", id: "show-gold" });
      box.checked = state.showGold;
      box.addEventListener("change", () => {
        state.showGold = box.checked;
        open(state.current, { focusList: true });
      });
      bar.append(el("label", {}, box, " show every gold span"));
      bar.append(el("span", { class: "legend muted" },
        el("span", { class: "seg plain gold-missed" }, "missed gold"), " ",
        el("span", { class: "seg plain gold-matched" }, "gold (matched)"), " ",
        el("span", { class: "seg plain fuzzy" }, "fuzzy grounding")));
    } else {
      bar.append(el("span", { class: "legend muted" }, el("span", { class: "seg plain fuzzy" }, "fuzzy grounding")));
    }
    if (!article.gold && data.gold) bar.append(el("span", { class: "warning" }, "no gold for this article"));
    return bar;
  }

  function goldState(pane, key) {
    return pane.run.gold && pane.run.gold[key] ? pane.run.gold[key].state : null;
  }
  function goldVisible(pane, key) {
    return state.showGold || goldState(pane, key) === "missed";
  }

  function paneView(pane) {
    const { run, article, n } = pane;
    pane.hues = new Map();
    pane.cards = new Map();
    pane.recordSpans = new Map();
    pane.spans = new Map();
    for (const c of run.cards) pane.hues.set(c.key, c.hue);
    const gold = article.gold ? article.gold.cards : [];
    for (const c of gold) pane.hues.set(c.key, 0);

    const head = el("div", { class: "pane-head" },
      el("span", { class: `run-tag run-${runs[n].key}` }, runs[n].key.toUpperCase()), " ",
      el("strong", {}, runs[n].name), " ", statusMark(run, n));
    if (run.scores) {
      const s = run.scores;
      head.append(el("span", { class: "muted" },
        ` record F1 meetings ${f2(s.meetings)}, positions ${f2(s.positions)}; fields ${f2(s.fields)}`));
    }
    if (run.reasks) head.append(el("span", { class: "muted" }, ` · ${plural(run.reasks, "re-ask")}`));
    const parts = [head];
    if (run.status === "failed") {
      parts.push(el("div", { class: "failure" },
        el("strong", {}, `Failed${run.failure ? ` (${run.failure})` : ""}: `), run.error || "no reason given",
        run.scores ? el("div", { class: "muted" }, "Counted as all-missed against the gold.") : null));
    } else if (run.status === "absent") {
      parts.push(el("div", { class: "failure" }, `No result for this article in ${runs[n].name}.`));
    }
    if (run.warnings && run.warnings.length) {
      parts.push(el("details", { class: "warnings" },
        el("summary", {}, plural(run.warnings.length, "warning")),
        el("ul", {}, run.warnings.map((w) => el("li", {}, w)))));
    }
    parts.push(el("div", { class: "pane-body" }, textView(pane), cardsView(pane)));
    return el("section", { class: "pane", "data-run": runs[n].key }, parts);
  }

  // ------------------------------------------------------------------ text with highlights

  function textView(pane) {
    const { article, run } = pane;
    const box = el("div", { class: "text", tabindex: 0, "data-run": runs[pane.n].key });
    if (article.text === null) {
      box.append(el("p", { class: "warning" }, article.text_error || "no article text"));
      return box;
    }
    const text = article.text;
    let at = 0;
    const fragment = document.createDocumentFragment();
    for (const [start, end, ids, fuzzy] of run.segments) {
      if (start > at) fragment.append(text.slice(at, start));
      const span = el("span", { class: "seg" }, text.slice(start, end));
      span.ids = ids;
      span.fuzzy = fuzzy;
      for (const id of ids) {
        for (const [map, key] of [[pane.spans, id], [pane.recordSpans, recordOf(id)]]) {
          if (!map.has(key)) map.set(key, []);
          map.get(key).push(span);
        }
      }
      styleSegment(pane, span);
      fragment.append(span);
      at = end;
    }
    fragment.append(text.slice(at));
    box.append(fragment);
    box.addEventListener("mouseover", (event) => hover(pane, event.target.closest(".seg"), event));
    box.addEventListener("mousemove", (event) => moveTip(event));
    box.addEventListener("mouseout", () => hover(pane, null));
    box.addEventListener("click", (event) => {
      const span = event.target.closest(".seg");
      const key = span && visibleRecords(pane, span)[0];
      if (key) select(key, "text");
    });
    return box;
  }

  function visibleRecords(pane, span) {
    const keys = [...new Set(span.ids.map(recordOf))];
    return keys.filter((k) => !isGold(k) || goldVisible(pane, k));
  }

  function styleSegment(pane, span) {
    const keys = visibleRecords(pane, span);
    const own = keys.filter((k) => !isGold(k));
    const gold = keys.filter(isGold);
    span.className = "seg";
    if (!keys.length) span.classList.add("plain");
    if (own.length) {
      span.style.setProperty("--h", pane.hues.get(own[0]));
      span.style.boxShadow = own.slice(1, 4)
        .map((k, depth) => `inset 0 -${3 * (depth + 1)}px 0 hsl(${pane.hues.get(k)} 65% 50%)`).join(", ");
    } else {
      span.classList.add("plain");
    }
    if (gold.length) {
      const missed = gold.some((k) => goldState(pane, k) === "missed");
      span.classList.add(missed ? "gold-missed" : "gold-matched");
      if (!own.length) span.classList.add("gold-only");
    }
    if (span.fuzzy && own.length) span.classList.add("fuzzy");
  }

  const tip = $("tip");
  function hover(pane, span, event) {
    for (const node of document.querySelectorAll(".card.hover, .seg.hover")) node.classList.remove("hover");
    const keys = span ? visibleRecords(pane, span) : [];
    if (!keys.length) {
      tip.hidden = true;
      return;
    }
    tip.replaceChildren(...keys.map((k) => {
      const c = cardData(pane, k);
      const label = isGold(k) ? `gold ${goldState(pane, k) || ""}: ` : "";
      return el("div", {}, label + (c ? c.title : k));
    }));
    if (span.fuzzy) tip.append(el("div", {}, "fuzzy grounding: the model's words differ from the article's"));
    tip.hidden = false;
    moveTip(event);
    for (const k of keys) {
      const card = pane.cards.get(k);
      if (card) card.classList.add("hover");
    }
  }
  function moveTip(event) {
    if (tip.hidden || !event) return;
    tip.style.left = `${Math.min(event.clientX + 14, window.innerWidth - tip.offsetWidth - 8)}px`;
    tip.style.top = `${event.clientY + 16}px`;
  }

  // ------------------------------------------------------------------ record cards

  function cardData(pane, key) {
    const pool = isGold(key) ? (pane.article.gold ? pane.article.gold.cards : []) : pane.run.cards;
    return pool.find((c) => c.key === key);
  }

  function cardsView(pane) {
    const { run, article } = pane;
    const box = el("div", { class: "cards", "data-run": runs[pane.n].key });
    const meetings = run.cards.filter((c) => c.type === "meeting");
    const positions = run.cards.filter((c) => c.type === "position");
    if (run.status === "ok" && !run.cards.length) box.append(el("p", { class: "muted" }, "No records."));
    if (meetings.length) box.append(el("h3", { class: "section-title" }, `Meetings (${meetings.length})`));
    box.append(...meetings.map((c) => card(pane, c)));
    if (positions.length) box.append(el("h3", { class: "section-title" }, `Positions (${positions.length})`));
    box.append(...positions.map((c) => card(pane, c)));
    if (article.gold && run.gold) {
      const shown = article.gold.cards.filter((c) => goldVisible(pane, c.key));
      if (shown.length) {
        const missed = shown.filter((c) => goldState(pane, c.key) === "missed").length;
        const title = state.showGold ? `Gold (${shown.length}, ${missed} missed)` : `Missed: in the gold, not in this run (${missed})`;
        box.append(el("h3", { class: "section-title" }, title));
        box.append(...shown.map((c) => card(pane, c)));
      }
    }
    return box;
  }

  function card(pane, c) {
    const gold = pane.run.gold && pane.run.gold[c.key];
    const diff = pane.run.diff && pane.run.diff[c.key];
    const classes = ["card", c.type, isGold(c.key) ? "gold" : "", gold ? gold.state : "", diff ? diff.state : ""];
    const badges = [];
    if (gold) {
      const text = isGold(c.key) ? gold.state : gold.state === "matched" ? `matched gold ${f2(gold.similarity)}` : gold.state;
      badges.push(el("span", { class: `badge ${gold.state}`, title: "alignment with the gold" }, text));
    }
    if (diff) {
      const other = runs[pane.n === 0 ? 1 : 0].name;
      const text = { same: `same in ${other}`, differs: `differs from ${other}`, only: `only in ${runs[pane.n].name}` }[diff.state];
      badges.push(el("span", { class: `badge ${diff.state}` }, text));
    }
    if (c.evidence.some((e) => e.match === "fuzzy")) badges.push(el("span", { class: "badge fuzzy" }, "fuzzy"));
    const node = el("article", {
      class: classes.filter(Boolean).join(" "), "data-key": c.key, tabindex: 0,
      vars: { "--h": isGold(c.key) ? 0 : c.hue },
      onclick: (event) => {
        if (!event.target.closest(".evidence li")) select(c.key, "card");
      },
      onkeydown: (event) => {
        if (event.key === "Enter") select(c.key, "card");
      },
    },
    el("header", {},
      el("span", { class: "kind" }, `${isGold(c.key) ? "gold " : ""}${c.type}`),
      el("span", { class: "title" }, c.title), badges),
    el("dl", {}, c.rows.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value)])));
    if (gold && gold.errors && gold.errors.length) {
      node.append(errorTable(gold.errors, ["field", "kind", "gold", runs[pane.n].name], "Fields not right against the gold"));
    }
    const other = diff && diff.with ? pane.article.runs[1 - pane.n].diff[diff.with] : null;
    const differs = diff ? diff.errors || (other && other.errors) : null;  // kept on run B's side
    if (differs && differs.length) {
      node.append(errorTable(differs, ["field", "kind", runs[0].name, runs[1].name], "Where the two runs differ"));
    }
    node.append(el("ol", { class: "evidence" }, c.evidence.map((e) => evidenceItem(pane, e))));
    pane.cards.set(c.key, node);
    return node;
  }

  function errorTable(errors, headers, caption) {
    return el("table", { class: "errors" },
      el("caption", {}, caption),
      el("tr", {}, headers.map((h) => el("th", {}, h))),
      errors.map((e) => el("tr", {}, [e.field, e.kind, e.gold, e.predicted].map((v) => el("td", {}, v)))));
  }

  function evidenceItem(pane, e) {
    const notes = [];
    if (e.quote) notes.push("the holder's quote");
    if (e.match && e.match !== "exact") notes.push(`${e.match} match`);
    if (e.unplaced) notes.push(e.unplaced);
    return el("li", {
      class: e.unplaced ? "unplaced" : "", "data-span": e.id,
      title: e.unplaced ? null : "show in the text",
      onclick: () => {
        const spans = pane.spans.get(e.id);
        if (!spans) return;
        select(recordOf(e.id), "card", spans[0]);
        spans[0].classList.remove("flash");
        void spans[0].offsetWidth;
        spans[0].classList.add("flash");
      },
    }, el("q", {}, e.text), notes.length ? el("span", { class: "muted" }, ` (${notes.join("; ")})`) : null);
  }

  // ------------------------------------------------------------------ selection

  function partners(pane, key) {
    const out = [];
    const g = pane.run.gold && pane.run.gold[key];
    if (g && g.with) out.push([pane, g.with]);
    const d = pane.run.diff && pane.run.diff[key];
    if (d && d.with) out.push(...state.panes.filter((p) => p !== pane).map((p) => [p, d.with]));
    return out;
  }

  function select(key, from, target) {
    for (const node of main.querySelectorAll(".seg.active, .card.selected, .card.paired")) {
      node.classList.remove("active", "selected", "paired");
    }
    state.selected = key;
    let first = target || null;
    for (const pane of state.panes) {
      const own = pane.cards.get(key);
      const spans = pane.recordSpans.get(key) || [];
      if (!own && !spans.length) continue;
      if (own) {
        own.classList.add("selected");
        if (from !== "card") own.scrollIntoView({ block: "nearest" });
      }
      const hue = isGold(key) ? 0 : pane.hues.get(key);
      for (const span of spans) {
        if (isGold(key) && !goldVisible(pane, key)) continue;
        span.classList.add("active");
        span.style.setProperty("--ha", hue);
        first = first || span;
      }
      for (const [other, partner] of partners(pane, key)) {
        const card = other.cards.get(partner);
        if (card) card.classList.add("paired");
        for (const span of other.recordSpans.get(partner) || []) {
          if (!isGold(partner) || goldVisible(other, partner)) {
            span.classList.add("active");
            span.style.setProperty("--ha", isGold(partner) ? 0 : other.hues.get(partner));
          }
        }
      }
    }
    if (from !== "text" && first) first.scrollIntoView({ block: "center" });
  }

  // ------------------------------------------------------------------ timeline and start

  const tabs = document.querySelectorAll(".tabs button");
  function showTab(name) {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    $("app").hidden = name !== "articles";
    if ($("timeline")) $("timeline").hidden = name !== "timeline";
  }
  for (const tab of tabs) tab.addEventListener("click", () => showTab(tab.dataset.tab));

  const timeline = data.timeline;
  const eventsById = new Map((timeline ? timeline.events : []).map((e) => [e.id, e]));

  function showEvent(id) {
    const event = eventsById.get(id);
    const detail = $("event-detail");
    if (!event || !detail) return;
    for (const node of document.querySelectorAll("svg.timeline .event.selected")) node.classList.remove("selected");
    const mark = [...document.querySelectorAll("svg.timeline .event")].find((g) => g.dataset.event === id);
    if (mark) mark.classList.add("selected");
    detail.replaceChildren(el("div", {},
      el("h2", {}, event.title),
      el("p", { class: "muted" }, `event ${event.id}`,
        event.participants.length ? ` · ${event.participants.join(", ")}` : ""),
      el("p", {}, "Status reports: ",
        event.history.map(([status, published, article], k) => [k ? " → " : "", `${status} (${published || "undated"}, ${article})`])),
      event.conflicts.length ? el("ul", { class: "warning" }, event.conflicts.map((c) => el("li", {}, c))) : null,
      el("h3", {}, `Sources (${event.sources.length})`),
      el("ol", {}, event.sources.map((m) => el("li", {},
        m.shown
          ? el("a", { href: `#a=${encodeURIComponent(m.article)}&k=${encodeURIComponent(m.key)}` }, m.article)
          : el("span", { title: "not among the results of this view" }, `${m.article} (not in this view)`),
        ` · ${m.status}${m.published ? `, published ${m.published}` : ""}`,
        m.quote ? [" · ", el("q", {}, m.quote)] : null)))));
  }
  for (const mark of document.querySelectorAll("svg.timeline .event")) {
    const choose = () => {
      history.replaceState(null, "", `#e=${encodeURIComponent(mark.dataset.event)}`);
      showEvent(mark.dataset.event);
    };
    mark.addEventListener("click", choose);
    mark.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") choose();
    });
  }

  function route() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.has("e") && timeline) {
      showTab("timeline");
      showEvent(params.get("e"));
      return;
    }
    const i = params.has("a") ? articles.findIndex((a) => a.id === params.get("a")) : -1;
    showTab("articles");
    if (i >= 0) {
      open(i);
      if (params.has("k")) select(params.get("k"), "link");
    } else if (state.current < 0 && articles.length) open(0);
  }
  window.addEventListener("hashchange", route);
  applyFilters();
  route();
  window.llmExtractView = { open: (id) => open(articles.findIndex((a) => a.id === id)), select, data };
  document.body.dataset.ready = "true";
})();
