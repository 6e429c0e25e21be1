"""The portal stays readable: no function in nginx/portal/*.js over 80 lines
(scripts/check_portal_functions.py), and index.html loads every script there.
No stack and no browser needed."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_portal_functions.py"
PORTAL = ROOT / "nginx" / "portal"

_spec = importlib.util.spec_from_file_location("check_portal_functions", SCRIPT)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)


def test_no_portal_function_over_80_lines():
    r = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_index_loads_every_script_once():
    html = (PORTAL / "index.html").read_text(encoding="utf-8")
    loaded = re.findall(r'<script src="([^"]+)" defer></script>', html)
    assert sorted(loaded) == sorted(p.name for p in PORTAL.glob("*.js"))
    assert len(set(loaded)) == len(loaded)


def _body(n):
    return "\n".join("    x += %d;" % i for i in range(n))


def test_checker_counts_every_kind_of_function():
    src = "\n".join([
        "(function () {",                                 # the module wrapper: exempt
        "  function named(a) {", _body(5), "  }",
        "  const arrow = (a, b) => {", _body(5), "  };",
        "  const o = { method(a) {", _body(5), "  } };",
        "  list.map(async (x) => {", _body(5), "  });",
        "  if (a) {", _body(9), "  }",                    # a block, not a function
        "}());",
    ])
    found = check.long_functions(src, max_lines=6)
    assert [(name, n) for name, _line, n in found] == [
        ("named", 7), ("arrow", 7), ("method", 7), ("(arrow)", 7)]


def test_checker_is_not_fooled_by_braces_in_text():
    src = "\n".join([
        "function f() {",
        "  const s = '}}}' + \"}\" + `${ {a: 1}.a } }` + /[}]\\/}/.source;",
        "  // }",
        "  /* } */",
        "  return a / b / c;",
        "}",
        "function g() {", _body(3), "}",
    ])
    found = check.long_functions(src, max_lines=4)
    assert [(name, line, n) for name, line, n in found] == [("f", 1, 6), ("g", 7, 5)]
