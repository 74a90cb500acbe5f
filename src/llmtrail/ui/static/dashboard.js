// The dashboard's charts: uPlot over the series the server embedded as JSON.
(() => {
  const data = JSON.parse(document.getElementById("series").textContent);
  const colours = ["#2563eb", "#dc2626", "#16a34a", "#9333ea"];
  document.querySelectorAll("[data-chart]").forEach((box) => {
    const names = box.dataset.chart.split(",");
    const options = {
      width: Math.max(box.clientWidth, 320),
      height: 220,
      series: [{}, ...names.map((name, i) => ({ label: name, stroke: colours[i], width: 2, spanGaps: true }))],
      axes: [{}, { size: 60 }],
    };
    new uPlot(options, [data.times, ...names.map((name) => data[name])], box);
  });
})();
