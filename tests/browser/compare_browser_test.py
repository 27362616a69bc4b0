#!/usr/bin/python3
"""Browser test of the comparison page (`wattprint compare --html`): the compare_tests binary writes the pages
(CompareHtml.WritePagesForBrowser, with WATTPRINT_COMPARE_HTML_DIR), Debian's headless chromium opens them.

  compare_browser_test.py --compare-tests BIN --out DIR [--chromium /usr/bin/chromium]

1. Control pages prove the error detection works (a console.error and a thrown exception must each fail).
2. Each page, instrumented with a recorder and a checker (from html_report_browser_test.py): no console
   message, no error, and every chart drew: each <svg data-chart> has marks (bars, points) with a non-empty
   bounding box (getBBox). The number of charts and of drawn marks per page is checked against what the page
   must show: bars for 3 runs (15 per chart), 1 run (5), 6 runs (30), a line chart per method when by=epoch,
   no chart at all when every method is unavailable, and none per epoch for runs without phases. The index
   labels under the per-epoch charts must not overlap (300 epochs: thinned labels, lines without dots).
3. A screenshot of the 3-run page that is not blank and shows the runs' colours.

Exit status: 0 passed, 1 failed, 77 skipped (no chromium; a failure instead when WATTPRINT_REQUIRE_SIMULATORS=1).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from html_report_browser_test import RECORDER, check_page, console_messages, png_colours, run_chromium  # noqa: E402

SKIP = 77

# Runs last in <body>: counts the drawn marks of every chart; the verdict goes to the DOM.
CHECKER = """<script>
(function () {
  var problems = [];
  var charts = document.querySelectorAll("svg[data-chart]");
  for (var c = 0; c < charts.length; ++c) {
    var svg = charts[c], name = svg.getAttribute("data-chart");
    var box = svg.getBoundingClientRect();
    if (box.width < 200 || box.height < 100) problems.push(name + ": svg is " + box.width + "x" + box.height);
    var marks = svg.querySelectorAll("rect.bar, circle.point, polyline.line");
    var drawn = 0;
    for (var i = 0; i < marks.length; ++i) {
      var b = marks[i].getBBox();
      if (b.width > 0 && (b.height > 0 || marks[i].tagName === "polyline")) ++drawn;
    }
    if (drawn === 0) problems.push(name + ": nothing drawn (" + marks.length + " marks)");
    // The index labels under a per-index chart must not overprint one another.
    var labels = Array.prototype.map.call(svg.querySelectorAll("text.x-label"), function (t) {
      return t.getBBox();
    }).sort(function (a, b) { return a.x - b.x; });
    for (var l = 1; l < labels.length; ++l) {
      if (labels[l - 1].x + labels[l - 1].width > labels[l].x) {
        problems.push(name + ": index labels overlap (" + labels.length + " labels)");
        break;
      }
    }
    document.body.setAttribute("data-marks-" + name, String(drawn));
  }
  document.body.setAttribute("data-chart-count", String(charts.length));
  document.body.dataset.charts = problems.length ? problems.join("; ") : "ok";
  document.body.dataset.errors = window.__wattprintErrors ? window.__wattprintErrors.join(" | ") : "no recorder";
})();
</script>
"""

METHODS = ["estimate", "process", "gpu", "server", "server-minus-idle"]
# Per page: chart name -> drawn marks expected (bars; or points + lines for the per-epoch charts).
EXPECTED = {
    # t4, rtx6000, rtx6000_crash with by=epoch: 15 bars; per method 3 + 3 + 2 points and 3 lines.
    "by-epoch.html": dict({"compare-kwh": 15, "compare-co2": 15}, **{"by-" + m: 8 + 3 for m in METHODS}),
    "one-run.html": {"compare-kwh": 5, "compare-co2": 5},
    # 6 runs: the three fixtures twice: 30 bars; per method 2 × 8 points, 6 lines.
    "six-runs.html": dict({"compare-kwh": 30, "compare-co2": 30}, **{"by-" + m: 16 + 6 for m in METHODS}),
    "all-unavailable.html": {},
    # report_v1.json twice: estimate, process, gpu available (server methods not), no phases.
    "no-phases.html": {"compare-kwh": 6, "compare-co2": 6},
    # 300 epochs and 120 without epoch 50: 10 bars; per method no dots (over 60), 1 + 2 lines.
    "many-epochs.html": dict({"compare-kwh": 10, "compare-co2": 10}, **{"by-" + m: 3 for m in METHODS}),
}
RUN_COLOURS = ("4477AA", "EE6677", "228833")


def instrument(html):
    if "<head>" not in html or "</body>" not in html:
        raise ValueError("the page has no <head> or no </body>")
    return html.replace("<head>", "<head>\n" + RECORDER, 1).replace("</body>", CHECKER + "</body>", 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare-tests", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    required = os.environ.get("WATTPRINT_REQUIRE_SIMULATORS") == "1"
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        message = f"{args.chromium} not found (Debian package chromium)"
        if required:
            print("FAIL: " + message + " and WATTPRINT_REQUIRE_SIMULATORS=1")
            return 1
        print("SKIP: " + message)
        return SKIP
    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    profile = tempfile.mkdtemp(prefix="wattprint-chromium-")
    failures = []
    try:
        controls = {
            "control-console-error.html": '<p>control</p><script>console.error("x");</script>',
            "control-exception.html": '<p>control</p><script>throw new Error("boom");</script>',
        }
        for name, body in controls.items():
            page = os.path.join(out, name)
            with open(page, "w", encoding="utf-8") as f:
                f.write(instrument(f"<!DOCTYPE html><html><head><title>c</title></head><body>{body}</body></html>"))
            problems, _ = check_page(args.chromium, profile, page)
            if not problems:
                failures.append(f"the error detection is blind: {name} was not reported as failing")
            else:
                print(f"control {name}: reported as failing, as it must ({problems[0]})")

        pages = os.path.join(out, "pages")
        env = dict(os.environ, WATTPRINT_COMPARE_HTML_DIR=pages)
        written = subprocess.run([args.compare_tests, "--gtest_filter=CompareHtml.WritePagesForBrowser"], env=env,
                                 capture_output=True, text=True, timeout=120)
        if written.returncode != 0:
            print(f"FAIL: compare_tests exited with {written.returncode}: {written.stdout[-2000:]}{written.stderr}")
            return 1
        for name, expected in EXPECTED.items():
            path = os.path.join(pages, name)
            if not os.path.isfile(path):
                failures.append(f"{name}: not written")
                continue
            with open(path, encoding="utf-8") as f:
                html = f.read()
            checked = os.path.join(out, "checked-" + name)
            with open(checked, "w", encoding="utf-8") as f:
                f.write(instrument(html))
            problems, dom = check_page(args.chromium, profile, checked)
            failures += [f"{name}: {p}" for p in problems]
            verdict = re.search(r'data-charts="([^"]*)"', dom)
            if verdict is None or verdict.group(1) != "ok":
                failures.append(f"{name}: charts: " + (verdict.group(1) if verdict else "the checker gave no verdict"))
            marks = {k: int(v) for k, v in re.findall(r'data-marks-([a-z0-9-]+)="(\d+)"', dom)}
            if marks != expected:
                failures.append(f"{name}: drawn marks {sorted(marks.items())}, expected {sorted(expected.items())}")
            else:
                print(f"{name}: {len(marks)} charts drawn, " + ", ".join(f"{k} {v}" for k, v in sorted(marks.items())))

        shot = os.path.join(out, "by-epoch.png")
        result = run_chromium(args.chromium, profile, ["--screenshot=" + shot, "--window-size=1400,3000"],
                              "file://" + os.path.join(pages, "by-epoch.html"))
        failures += ["screenshot run: console: " + m for m in console_messages(result.stderr)]
        if not os.path.isfile(shot):
            failures.append(f"no screenshot written (chromium exited with {result.returncode})")
        else:
            width, height, colours = png_colours(shot)
            run_colours = {bytes.fromhex(c) for c in RUN_COLOURS}
            if (width, height) != (1400, 3000):
                failures.append(f"screenshot is {width}x{height}, not 1400x3000")
            if len(colours) < 16:
                failures.append(f"screenshot looks blank: {len(colours)} distinct colours")
            if len(run_colours & colours) != 3:
                failures.append(f"screenshot shows {len(run_colours & colours)} of the 3 runs' colours")
            print(f"screenshot: {shot} ({width}x{height}, {len(colours)} distinct colours, "
                  f"{len(run_colours & colours)} of the 3 runs' colours)")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(f"artifacts: {out}")
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
