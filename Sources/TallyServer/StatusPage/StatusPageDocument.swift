/// The parts of ``StatusPage/html``: markup and style, then the script.
enum StatusPageDocument {
    static let head = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Tally status</title>
    <link rel="icon" href="data:,">
    <style>
    :root { --bg: #f6f7f9; --card: #fff; --text: #1d2329; --muted: #5f6b76; --line: #dde2e7;
            --blue: #2764c5; --green: #1f8a4c; --orange: #c46a12; --red: #c0392b; --purple: #7a3fb8; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
    header { display: flex; align-items: baseline; gap: 16px; padding: 12px 20px; background: var(--card); border-bottom: 1px solid var(--line); }
    header h1 { margin: 0; font-size: 18px; }
    #state { font-weight: 600; }
    #state.ok { color: var(--green); }
    #state.error { color: var(--red); }
    .muted { color: var(--muted); }
    main { padding: 16px 20px; display: grid; gap: 16px; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
    .card h2 { margin: 0 0 4px; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .03em; }
    .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
    .sub { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
    .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
    .chart svg { width: 100%; height: 140px; display: block; }
    .legend { display: flex; gap: 12px; flex-wrap: wrap; font-size: 12px; }
    .legend span::before { content: ""; display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; background: currentColor; }
    table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
    th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); }
    th { font-size: 12px; color: var(--muted); font-weight: 600; }
    td.num, th.num { text-align: right; }
    .tables { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
    </style>
    </head>

    """#

    static let body = #"""
    <body>
    <header>
      <h1>Tally</h1>
      <span id="state" class="muted">loading…</span>
      <span class="muted">updated <span id="updated">—</span></span>
      <span class="muted">window <span id="window">—</span></span>
    </header>
    <main>
      <section class="cards">
        <div class="card"><h2>Acceptance ratio</h2><div class="value" id="acceptance-ratio">—</div>
          <div class="sub"><span id="completions">—</span> completions in the window</div></div>
        <div class="card"><h2>Latency p50</h2><div class="value"><span id="latency-p50">—</span></div>
          <div class="sub">p90 <span id="latency-p90">—</span> · over the window</div></div>
        <div class="card"><h2>Latency p99</h2><div class="value"><span id="latency-p99">—</span></div>
          <div class="sub">p95 <span id="latency-p95">—</span> · over the window</div></div>
        <div class="card"><h2>Throughput (this node)</h2><div class="value"><span id="throughput-processed">—</span></div>
          <div class="sub">processed/s · ingested/s <span id="throughput-ingested">—</span></div></div>
        <div class="card"><h2>Events (this node)</h2><div class="value" id="events-ingested">—</div>
          <div class="sub">ingested · <span id="events-processed">—</span> processed</div></div>
        <div class="card"><h2>Productivity score</h2><div class="value" id="productivity-score">—</div>
          <div class="sub">age <span id="score-age">—</span> (recomputed every 30 s)</div></div>
        <div class="card"><h2>Active sessions</h2><div class="value" id="sessions-active">—</div>
          <div class="sub">tools/min p50 <span id="tools-per-minute">—</span> · mean <span id="session-duration">—</span></div></div>
        <div class="card"><h2>Tool calls (window)</h2><div class="value" id="tool-success-ratio">—</div>
          <div class="sub"><span id="tool-calls-success">—</span> ok · <span id="tool-calls-failure">—</span> failed</div></div>
        <div class="card"><h2>Log lag</h2><div class="value" id="log-lag">—</div>
          <div class="sub"><span id="log-pending">—</span> pending · oldest <span id="log-oldest-pending">—</span></div></div>
        <div class="card"><h2>Dead letters</h2><div class="value" id="log-dead-letters">—</div>
          <div class="sub"><span id="log-length">—</span> entries in the log</div></div>
      </section>
      <section class="charts">
        <div class="card chart"><h2>Completion latency</h2><svg id="chart-latency" viewBox="0 0 400 140" preserveAspectRatio="none" role="img" aria-label="latency quantiles"></svg>
          <div class="legend" id="legend-latency"></div></div>
        <div class="card chart"><h2>Acceptance ratio</h2><svg id="chart-acceptance" viewBox="0 0 400 140" preserveAspectRatio="none" role="img" aria-label="acceptance ratio"></svg>
          <div class="legend" id="legend-acceptance"></div></div>
        <div class="card chart"><h2>Throughput (this node, events/s)</h2><svg id="chart-throughput" viewBox="0 0 400 140" preserveAspectRatio="none" role="img" aria-label="throughput"></svg>
          <div class="legend" id="legend-throughput"></div></div>
        <div class="card chart"><h2>Log lag and pending</h2><svg id="chart-lag" viewBox="0 0 400 140" preserveAspectRatio="none" role="img" aria-label="lag"></svg>
          <div class="legend" id="legend-lag"></div></div>
      </section>
      <section class="tables">
        <div class="card"><h2>Tools</h2><table><thead><tr><th>tool</th><th class="num">success</th><th class="num">failure</th><th class="num">window success</th></tr></thead>
          <tbody id="tools"></tbody></table></div>
        <div class="card"><h2>Client errors</h2><table><thead><tr><th>code</th><th class="num">events</th></tr></thead>
          <tbody id="errors"></tbody></table></div>
      </section>
      <p class="muted">Global figures are the same on every node; throughput and event counts are this node's. Readings every <span id="poll-seconds">2</span> s, the last <span id="history-size">150</span> kept. <a href="/metrics">/metrics</a> · <a href="/v1/metrics">/v1/metrics</a> · <a href="/health">/health</a></p>
    </main>

    """#

    static let script = #"""
    "use strict";
    const history = [];
    let previousCounters = null;
    const SVG = "http://www.w3.org/2000/svg";

    function el(id) { return document.getElementById(id); }
    function setText(id, text) { el(id).textContent = text; }
    function isNumber(x) { return typeof x === "number" && isFinite(x); }
    function fmtCount(x) { return isNumber(x) ? Math.round(x).toLocaleString("en-US") : "—"; }
    function fmtRatio(x) { return isNumber(x) ? (x * 100).toFixed(2) + " %" : "—"; }
    function fmtRate(x) { return isNumber(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(0)) : "—"; }
    function fmtSeconds(s) {
      if (!isNumber(s)) return "—";
      if (s === 0) return "0 s";
      if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms";
      if (s < 120) return s.toFixed(1) + " s";
      if (s < 7200) return (s / 60).toFixed(1) + " min";
      return (s / 3600).toFixed(1) + " h";
    }

    // Sums every sample of a counter in Prometheus text (all label sets).
    function sumCounter(text, name) {
      let total = 0, found = false;
      for (const line of text.split("\n")) {
        if (!line.startsWith(name)) continue;
        const rest = line.charAt(name.length);
        if (rest !== "{" && rest !== " ") continue;
        const value = Number(line.slice(line.lastIndexOf(" ") + 1));
        if (isFinite(value)) { total += value; found = true; }
      }
      return found ? total : null;
    }

    async function fetchJSON(url) {
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok) throw new Error(url + " answered " + response.status);
      return response.json();
    }

    async function fetchText(url) {
      const response = await fetch(url, { cache: "no-store" });
      if (!response.ok) throw new Error(url + " answered " + response.status);
      return response.text();
    }

    function record(m, counters, now) {
      let ingestedRate = null, processedRate = null;
      if (previousCounters && now > previousCounters.at) {
        const seconds = (now - previousCounters.at) / 1000;
        if (counters.ingested !== null && previousCounters.ingested !== null) ingestedRate = Math.max(0, counters.ingested - previousCounters.ingested) / seconds;
        if (counters.processed !== null && previousCounters.processed !== null) processedRate = Math.max(0, counters.processed - previousCounters.processed) / seconds;
      }
      previousCounters = { at: now, ingested: counters.ingested, processed: counters.processed };
      const latency = m.completionLatencySeconds || {};
      const log = m.log || {};
      history.push({
        at: now,
        p50: latency.p50, p90: latency.p90, p99: latency.p99,
        acceptance: m.acceptanceRatio,
        ingested: ingestedRate, processed: processedRate,
        lag: log.lag, pending: log.pending
      });
      while (history.length > HISTORY) history.shift();
      return { ingestedRate, processedRate };
    }

    function renderNumbers(m, counters, rates) {
      const latency = m.completionLatencySeconds || {};
      const log = m.log || {};
      setText("updated", new Date(m.computedAt * 1000).toLocaleTimeString("en-GB"));
      setText("window", fmtSeconds(m.windowSeconds));
      const acceptance = el("acceptance-ratio");
      acceptance.textContent = fmtRatio(m.acceptanceRatio);
      acceptance.dataset.value = isNumber(m.acceptanceRatio) ? String(m.acceptanceRatio) : "";
      setText("completions", fmtCount(m.completions));
      setText("latency-p50", fmtSeconds(latency.p50));
      setText("latency-p90", fmtSeconds(latency.p90));
      setText("latency-p95", fmtSeconds(latency.p95));
      setText("latency-p99", fmtSeconds(latency.p99));
      setText("throughput-ingested", fmtRate(rates.ingestedRate));
      setText("throughput-processed", fmtRate(rates.processedRate));
      setText("events-ingested", fmtCount(counters.ingested));
      setText("events-processed", fmtCount(counters.processed));
      setText("productivity-score", isNumber(m.productivityScore) ? m.productivityScore.toFixed(1) : "—");
      setText("score-age", fmtSeconds(m.productivityScoreAgeSeconds));
      setText("sessions-active", fmtCount(m.activeSessions));
      setText("tools-per-minute", isNumber((m.sessionToolsPerMinute || {}).p50) ? m.sessionToolsPerMinute.p50.toFixed(2) : "—");
      setText("session-duration", fmtSeconds(m.meanSessionDurationSeconds));
      const calls = m.windowToolCalls || {};
      const total = (calls.success || 0) + (calls.failure || 0);
      setText("tool-success-ratio", total > 0 ? fmtRatio(calls.success / total) : "—");
      setText("tool-calls-success", fmtCount(calls.success));
      setText("tool-calls-failure", fmtCount(calls.failure));
      setText("log-lag", fmtCount(log.lag));
      setText("log-pending", fmtCount(log.pending));
      setText("log-oldest-pending", fmtSeconds(log.oldestPendingAgeSeconds));
      setText("log-dead-letters", fmtCount(log.deadLetters));
      setText("log-length", fmtCount(log.length));
    }

    function fillTable(id, rows) {
      const body = el(id);
      while (body.firstChild) body.removeChild(body.firstChild);
      for (const row of rows) {
        const tr = document.createElement("tr");
        row.forEach((cell, index) => {
          const td = document.createElement("td");
          if (index > 0) td.className = "num";
          td.textContent = cell;
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
    }

    function renderTables(m) {
      const tools = Object.entries(m.toolCalls || {})
        .map(([tool, c]) => ({ tool, success: c.success || 0, failure: c.failure || 0 }))
        .sort((a, b) => (b.success + b.failure) - (a.success + a.failure) || (a.tool < b.tool ? -1 : 1))
        .slice(0, 25);
      const ratios = m.toolSuccessRatio || {};
      fillTable("tools", tools.map((t) => [t.tool, fmtCount(t.success), fmtCount(t.failure), fmtRatio(ratios[t.tool])]));
      const errors = Object.entries(m.clientErrors || {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 25);
      fillTable("errors", errors.map(([code, count]) => [code, fmtCount(count)]));
    }

    // Draws lines for `series` ({key, label, color, format}) over the history into an SVG.
    function drawChart(svgId, legendId, series, fixedMax) {
      const svg = el(svgId);
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      const width = 400, height = 140, top = 14, bottom = 4;
      let max = fixedMax || 0;
      if (!fixedMax) for (const point of history) for (const s of series) if (isNumber(point[s.key])) max = Math.max(max, point[s.key]);
      if (max <= 0) max = 1;
      for (const fraction of [0, 0.5, 1]) {
        const y = top + (1 - fraction) * (height - top - bottom);
        const grid = document.createElementNS(SVG, "line");
        grid.setAttribute("x1", "0"); grid.setAttribute("x2", String(width));
        grid.setAttribute("y1", String(y)); grid.setAttribute("y2", String(y));
        grid.setAttribute("stroke", "#dde2e7"); grid.setAttribute("stroke-width", "1");
        svg.appendChild(grid);
      }
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", "2"); label.setAttribute("y", "11");
      label.setAttribute("font-size", "10"); label.setAttribute("fill", "#5f6b76");
      label.textContent = series[0].format(max);
      svg.appendChild(label);
      const step = width / Math.max(1, HISTORY - 1);
      const offset = HISTORY - history.length;
      for (const s of series) {
        const points = [];
        history.forEach((point, index) => {
          if (!isNumber(point[s.key])) return;
          const x = (offset + index) * step;
          const y = top + (1 - Math.min(1, point[s.key] / max)) * (height - top - bottom);
          points.push(x.toFixed(1) + "," + y.toFixed(1));
        });
        if (points.length === 0) continue;
        const line = document.createElementNS(SVG, "polyline");
        line.setAttribute("points", points.join(" "));
        line.setAttribute("fill", "none");
        line.setAttribute("stroke", s.color);
        line.setAttribute("stroke-width", "1.5");
        line.setAttribute("vector-effect", "non-scaling-stroke");
        line.setAttribute("data-series", s.key);
        svg.appendChild(line);
        const [lastX, lastY] = points[points.length - 1].split(",");
        const dot = document.createElementNS(SVG, "circle");
        dot.setAttribute("cx", lastX); dot.setAttribute("cy", lastY); dot.setAttribute("r", "2.5");
        dot.setAttribute("fill", s.color);
        svg.appendChild(dot);
      }
      const legend = el(legendId);
      while (legend.firstChild) legend.removeChild(legend.firstChild);
      const last = history[history.length - 1] || {};
      for (const s of series) {
        const item = document.createElement("span");
        item.style.color = s.color;
        item.textContent = s.label + " " + s.format(last[s.key]);
        legend.appendChild(item);
      }
    }

    function renderCharts() {
      drawChart("chart-latency", "legend-latency", [
        { key: "p50", label: "p50", color: "#2764c5", format: fmtSeconds },
        { key: "p90", label: "p90", color: "#c46a12", format: fmtSeconds },
        { key: "p99", label: "p99", color: "#c0392b", format: fmtSeconds }
      ]);
      drawChart("chart-acceptance", "legend-acceptance", [
        { key: "acceptance", label: "accepted", color: "#1f8a4c", format: fmtRatio }
      ], 1);
      drawChart("chart-throughput", "legend-throughput", [
        { key: "ingested", label: "ingested/s", color: "#2764c5", format: fmtRate },
        { key: "processed", label: "processed/s", color: "#1f8a4c", format: fmtRate }
      ]);
      drawChart("chart-lag", "legend-lag", [
        { key: "lag", label: "lag", color: "#c46a12", format: fmtCount },
        { key: "pending", label: "pending", color: "#7a3fb8", format: fmtCount }
      ]);
    }

    function setState(ok, text) {
      const state = el("state");
      state.className = ok ? "ok" : "error";
      state.textContent = text;
    }

    async function poll() {
      try {
        const [metrics, text] = await Promise.all([fetchJSON("/v1/metrics"), fetchText("/metrics")]);
        const counters = {
          ingested: sumCounter(text, "tally_events_ingested_total"),
          processed: sumCounter(text, "tally_events_processed_total")
        };
        const rates = record(metrics, counters, Date.now());
        renderNumbers(metrics, counters, rates);
        renderTables(metrics);
        renderCharts();
        setState(true, "live");
      } catch (error) {
        setState(false, "cannot read the node: " + (error && error.message ? error.message : String(error)));
      } finally {
        setTimeout(poll, POLL_MS);
      }
    }

    setText("poll-seconds", String(POLL_MS / 1000));
    setText("history-size", String(HISTORY));
    poll();

    """#
}
