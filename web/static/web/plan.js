// Live agent states for one plan: listen to its WebSocket (the session authenticates it), replay from
// the last event the page shows, reconnect from the last event seen, and swap in the finished plan.
(function () {
  "use strict";
  var config = document.getElementById("plan-config");
  if (!config || config.dataset.ended === "true") return;
  var planId = config.dataset.planId;
  var last = parseInt(config.dataset.after, 10) || 0;
  var live = document.getElementById("live");
  var STATES = {"agent.started": "running", "agent.retrying": "retrying", "agent.succeeded": "done",
                "agent.failed": "failed", "agent.timed_out": "failed"};
  var retryDelay = 500;

  function agentState(agent, state, attempt) {
    var row = document.querySelector('[data-agent="' + agent + '"]');
    if (!row) return;
    var badge = row.querySelector(".badge");
    badge.textContent = state;
    badge.dataset.state = state;
    badge.className = "badge state-" + state;
    row.querySelector(".agent-note").textContent = attempt > 1 ? "attempt " + attempt : "";
    live.textContent = agent + " is " + state;
  }

  function logEvent(event) {
    var item = document.createElement("li");
    item.value = event.seq;
    item.textContent = event.type + (event.agent ? " · " + event.agent : "");
    document.getElementById("events").appendChild(item);
    document.getElementById("event-count").textContent = String(event.seq);
  }

  function planEnded(status) {
    var badge = document.getElementById("plan-status");
    badge.textContent = status;
    badge.className = "badge status-" + status;
    fetch(config.dataset.resultUrl, {credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) { document.getElementById("result").innerHTML = html; live.textContent = "The plan is ready."; });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/v1/plans/" + planId + "/?after=" + last);
    var ended = false;
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "heartbeat" || event.seq <= last) return;
      last = event.seq;
      retryDelay = 500;
      logEvent(event);
      if (STATES[event.type]) agentState(event.agent, STATES[event.type], (event.payload || {}).attempt || 0);
      if (/^plan\.(complete|partial|failed|cancelled)$/.test(event.type)) {
        ended = true;
        planEnded(event.type.slice(5));
      } else if (event.type.indexOf("plan.") === 0) {
        document.getElementById("plan-status").textContent = event.type.slice(5);
      }
    };
    socket.onclose = function (close) {
      if (ended || close.code === 4401 || close.code === 4403) {
        if (!ended) live.textContent = "Live updates are not available: " + (close.reason || close.code);
        return;
      }
      live.textContent = "Connection lost; reconnecting…";
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    };
  }
  connect();
})();
