/* Printed output wraps at the column edge (layout.css), except text laid out as a table:
 * at least three lines, and at least two lines in which runs of two or more spaces
 * separate columns at the same character positions. Wrapping such a table would break
 * its columns apart, so it keeps its lines (and scrolls sideways if it is wider than the
 * page). */
(() => {
  const gaps = (line) => {
    const starts = new Set();
    for (const match of line.matchAll(/\S( {2,})(?=\S)/g)) {
      starts.add(match.index + match[0].length);
    }
    return starts;
  };
  const isTable = (text) => {
    const lines = text.split("\n").filter((line) => line.trim());
    if (lines.length < 3) return false;
    const header = gaps(lines[0]);
    if (header.size < 2) return false;
    let aligned = 0;
    for (const line of lines.slice(1)) {
      const shared = [...gaps(line)].filter((column) => header.has(column)).length;
      if (shared >= 1) aligned += 1;
    }
    return aligned >= 2;
  };
  document.addEventListener("DOMContentLoaded", () => {
    for (const pre of document.querySelectorAll("div.cell_output pre")) {
      if (isTable(pre.textContent)) pre.classList.add("aligned-columns");
    }
  });
})();
