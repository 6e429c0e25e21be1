"""The docs match the code: ARCHITECTURE.md's HTTP API table lists exactly
the routes of `postdesk-api --access` with their access level, as
docs/openapi.json does; every comment or doc that cites a file of the
repository (docs/*.md, a README) names one that exists, and a section
that exists in it. No stack needed."""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
DOCS = ROOT / "docs"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def access():
    """{(method, path): level} from `postdesk-api --access` (cgi-bin/api.c)."""
    binary = Path(os.environ.get("POSTDESK_BIN", ROOT / "build")) / "postdesk-api"
    out = subprocess.run([str(binary), "--access"], capture_output=True, text=True,
                         check=True).stdout
    table = {}
    for line in out.splitlines():
        method, path, level, _csrf = line.split(" ")
        table[(method, path)] = level
    assert table, out
    return table


def section(text, heading):
    """The lines of text under `## heading`, up to the next `## `."""
    lines = text.splitlines()
    start = lines.index("## " + heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def architecture_routes():
    """{(method, path): access} from the route table of "## HTTP API"."""
    rows = {}
    header = "| method | path | access | success |"
    lines = section((DOCS / "ARCHITECTURE.md").read_text(), "HTTP API")
    assert header in lines, "the route table's header changed: " + header
    for line in lines[lines.index(header) + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        method, path, level = cells[0], cells[1].strip("`"), cells[2]
        assert (method, path) not in rows, "listed twice: %s %s" % (method, path)
        rows[(method, path)] = level
    return rows


def openapi_routes():
    doc = json.loads((DOCS / "openapi.json").read_text())
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS}


def test_architecture_route_table_is_the_route_table():
    code, doc = access(), architecture_routes()
    missing = sorted(set(code) - set(doc))
    extra = sorted(set(doc) - set(code))
    assert not missing, "routes missing from docs/ARCHITECTURE.md: %s" % missing
    assert not extra, "docs/ARCHITECTURE.md lists routes the code lacks: %s" % extra
    wrong = sorted((k, doc[k], code[k]) for k in code if doc[k] != code[k])
    assert not wrong, "access level (route, ARCHITECTURE.md, code): %s" % wrong


def test_openapi_paths_are_the_route_table():
    code, doc = set(access()), openapi_routes()
    assert not code - doc, "routes missing from docs/openapi.json: %s" % sorted(code - doc)
    assert not doc - code, "docs/openapi.json has routes the code lacks: %s" % sorted(doc - code)


# --- citations -------------------------------------------------------------

# Where the code and the docs cite documents.
CITING = ["lib", "cgi-bin", "bin", "tests", "scripts", "nginx", "docs", "sql", "Makefile",
          "README.md", ".ci"]
SUFFIXES = {".c", ".h", ".py", ".sh", ".js", ".conf", ".in", ".md", ".sql", ""}
# A cited document, then maybe its section: "Quoted heading", a number
# (4.3, §4.6) or "sections 1-3 and 9".
CITE = re.compile(
    r"(?<![\w/.-])((?:docs|tests|nginx|scripts)/[\w./-]*\.md|README\.md|ARCHITECTURE\.md"
    r"|[\w-]+\.md)(?!\w|\.\w)"
    r"(?:[ ,;:(]*(?:\"([^\"]{1,80})\"|\(\"([^\"]{1,80})\"\)"
    r"|(?:sections? |§)(\d+(?:\.\d+)?(?:[-–]\d+)?(?:(?:, | and |/§?)\d+(?:\.\d+)?)*)"
    r"|(\d+\.\d+)))?")


def citing_files():
    for top in CITING:
        p = ROOT / top
        files = [p] if p.is_file() else sorted(p.rglob("*")) if p.is_dir() else []
        for f in files:
            if f.is_file() and f.suffix in SUFFIXES and "corpus" not in f.parts \
                    and f != Path(__file__).resolve():
                yield f


def flat(text):
    """Comment text as prose: the line breaks and comment markers go."""
    return re.sub(r"[ \t]*\n[ \t]*(?:\*(?!/)|#+|//|\"\"\"|-)?[ \t]*", " ", text)


def headings(doc):
    """A document's headings, and its paragraphs' bold leads ("**Title.**")."""
    text = doc.read_text()
    return [re.sub(r"^#+\s*", "", line).strip() for line in text.splitlines()
            if re.match(r"#{1,6} ", line)] + re.findall(r"^\*\*([^*]+?)\.?\*\*", text, re.M)


def numbers(spec):
    """"1-3 and 9" -> ["1", "2", "3", "9"]; "4.5/§4.6" -> ["4.5", "4.6"]."""
    out = []
    for part in re.split(r", | and |/§?", spec):
        m = re.fullmatch(r"(\d+)[-–](\d+)", part)
        out += [str(i) for i in range(int(m[1]), int(m[2]) + 1)] if m else [part]
    return out


def resolve(source, name):
    """The cited file: relative to the repository, else to the citing file."""
    for base in (ROOT, source.parent):
        if (base / name).is_file():
            return base / name
    if name == "ARCHITECTURE.md":
        return DOCS / name
    return None


def citations():
    for f in citing_files():
        for m in CITE.finditer(flat(f.read_text(errors="replace"))):
            name, quoted, paren, nums, num = m.groups()
            yield f.relative_to(ROOT), name, quoted or paren, nums or num


def test_every_cited_document_and_section_exists():
    bad = []
    for source, name, quoted, nums in citations():
        doc = resolve(ROOT / source, name)
        if doc is None:
            bad.append("%s cites %s, which is not in the repository" % (source, name))
            continue
        if doc.suffix != ".md" or not (quoted or nums):
            continue
        heads = headings(doc)
        if quoted and not any(h == quoted or h.startswith(quoted + ",")
                              or h.startswith(quoted + " ") or h.startswith(quoted + ":")
                              for h in heads):
            bad.append('%s cites %s "%s": no such section' % (source, name, quoted))
        for n in numbers(nums) if nums else []:
            if not any(re.match(re.escape(n) + r"\.? ", h) for h in heads):
                bad.append("%s cites %s section %s: no such section" % (source, name, n))
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("text,want", [
    ('see docs/graph-contract.md 4.3 and', ("docs/graph-contract.md", None, "4.3")),
    ('(docs/ARCHITECTURE.md\n * "Column limits")', ("docs/ARCHITECTURE.md", "Column limits", None)),
    ("per docs/graph-contract.md sections 1-3 and 9.", ("docs/graph-contract.md", None, "1-3 and 9")),
    ("docs/ingest.md (\"The ledger\")", ("docs/ingest.md", "The ledger", None)),
])
def test_citation_pattern(text, want):
    m = CITE.search(flat(text))
    assert (m[1], m[2] or m[3], m[4] or m[5]) == want


# A path of the repository named in a comment or a doc: it must exist (the
# file renames of issue 10 keep the comments honest). Paths under another
# root (/etc/nginx/snippets/…, $POSTDESK_VAR/nginx/…) do not count.
PATH_RE = re.compile(r"(?<![\w/$.@-])((?:lib|cgi-bin|bin|sql|tests|scripts|nginx|docs)"
                     r"/[\w./-]*\w\.(?:c|h|py|sh|sql|md|json|conf|in|js|css|html))\b")


def test_every_named_path_exists():
    bad = []
    for f in citing_files():
        for m in PATH_RE.finditer(f.read_text(errors="replace")):
            name = m[1]
            if "NNNN" in name or "*" in name:
                continue
            if not (ROOT / name).exists():
                bad.append("%s names %s, which is not in the repository"
                           % (f.relative_to(ROOT), name))
    assert not bad, "\n".join(sorted(set(bad)))
