#!/usr/bin/python3
"""No function in the portal's scripts (nginx/portal/*.js) is longer than
80 lines, counted from the line of its opening brace to the line of its
closing brace, nested functions included.

There is no JavaScript parser on the machine (and the portal has no build
step), so this is a small tokenizer that knows what can hide a brace: line
and block comments, strings, template literals (with ${…} nesting) and
regular expression literals.  A `{` opens a function body when it follows
`=>`, or follows `)` whose `(` comes after `function`, a function's name or
a method's name (any identifier that is not a control keyword).

The one exemption is the module wrapper every portal file is written in:
`(function () {` at the very start of a line, at the top level.

    scripts/check_portal_functions.py [--max N] [FILE…]   (default: the portal)

Exit 0 when every function fits, 1 with one line per long function.
tests/browser/test_portal_size.py runs it.
"""
import re
import sys
from pathlib import Path

MAX_LINES = 80
PORTAL = Path(__file__).resolve().parent.parent / "nginx" / "portal"

# A `(…) {` after one of these is a block, not a function body.
CONTROL = {"if", "for", "while", "switch", "catch", "with", "return", "typeof",
           "await", "yield", "new", "delete", "void", "in", "of", "instanceof"}
# After one of these (or most punctuation) a `/` starts a regular expression.
REGEX_AFTER_WORD = {"return", "typeof", "case", "do", "else", "in", "of", "new",
                    "delete", "void", "throw", "instanceof", "await", "yield"}
WRAPPER = re.compile(r"^\(function \(\) \{$")


class Tok:
    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind, text, line, col):
        self.kind, self.text, self.line, self.col = kind, text, line, col


class Lexer:
    def __init__(self, src):
        self.s = src
        self.i = 0
        self.line = 1
        self.col = 0
        self.toks = []
        # One entry per open `{`: True when it opened a template's ${…}.
        self.braces = []

    def error(self, what):
        raise SyntaxError("line %d: %s" % (self.line, what))

    def advance(self, n=1):
        for _ in range(n):
            if self.s[self.i] == "\n":
                self.line += 1
                self.col = 0
            else:
                self.col += 1
            self.i += 1

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def regex_allowed(self):
        if not self.toks:
            return True
        t = self.toks[-1]
        if t.kind in ("word",):
            return t.text in REGEX_AFTER_WORD
        if t.kind in ("num", "str", "regex", "template"):
            return False
        return t.text not in (")", "]", "}")

    def skip_comment(self):
        if self.peek(1) == "/":
            while self.i < len(self.s) and self.peek() != "\n":
                self.advance()
            return True
        if self.peek(1) == "*":
            end = self.s.find("*/", self.i + 2)
            if end < 0:
                self.error("unterminated comment")
            self.advance(end + 2 - self.i)
            return True
        return False

    def string(self, quote):
        line, col = self.line, self.col
        self.advance()
        while self.peek() != quote:
            if self.peek() in ("", "\n"):
                self.error("unterminated string")
            self.advance(2 if self.peek() == "\\" else 1)
        self.advance()
        self.toks.append(Tok("str", quote, line, col))

    def template(self):
        """From ` or from the } closing a ${…}: up to ` or ${."""
        line, col = self.line, self.col
        self.advance()
        while True:
            c = self.peek()
            if c == "":
                self.error("unterminated template literal")
            if c == "\\":
                self.advance(2)
            elif c == "`":
                self.advance()
                break
            elif c == "$" and self.peek(1) == "{":
                self.advance(2)
                self.braces.append(True)
                break
            else:
                self.advance()
        self.toks.append(Tok("template", "`", line, col))

    def regex(self):
        line, col = self.line, self.col
        self.advance()
        in_class = False
        while True:
            c = self.peek()
            if c in ("", "\n"):
                self.error("unterminated regular expression")
            if c == "\\":
                self.advance(2)
                continue
            self.advance()
            if c == "[":
                in_class = True
            elif c == "]":
                in_class = False
            elif c == "/" and not in_class:
                break
        while self.peek().isalpha():
            self.advance()
        self.toks.append(Tok("regex", "/", line, col))

    def punct(self, c):
        line, col = self.line, self.col
        if c == "=" and self.peek(1) == ">":
            self.advance(2)
            self.toks.append(Tok("punct", "=>", line, col))
            return
        if c == "}" and self.braces and self.braces[-1]:
            self.braces.pop()
            self.template()  # the rest of the template literal
            return
        if c == "{":
            self.braces.append(False)
        elif c == "}":
            if not self.braces:
                self.error("unbalanced }")
            self.braces.pop()
        self.advance()
        self.toks.append(Tok("punct", c, line, col))

    def run(self):
        while self.i < len(self.s):
            c = self.peek()
            if c.isspace():
                self.advance()
            elif c == "/" and self.skip_comment():
                pass
            elif c in ("'", '"'):
                self.string(c)
            elif c == "`":
                self.template()
            elif c == "/" and self.regex_allowed():
                self.regex()
            elif c.isalpha() or c in "_$":
                self.word("word", lambda ch: ch.isalnum() or ch in "_$")
            elif c.isdigit() or (c == "." and self.peek(1).isdigit()):
                self.word("num", lambda ch: ch.isalnum() or ch in "._")
            else:
                self.punct(c)
        if self.braces:
            self.error("unclosed {")
        return self.toks

    def word(self, kind, ok):
        line, col, start = self.line, self.col, self.i
        while self.i < len(self.s) and ok(self.peek()):
            self.advance()
        self.toks.append(Tok(kind, self.s[start:self.i], line, col))


def function_name(toks, k):
    """The name of the function whose body opens at toks[k] ('{'), or None
    when that brace opens something else (a block, an object)."""
    prev = toks[k - 1] if k else None
    if prev is None:
        return None
    if prev.text == "=>":
        j = k - 2
        if j >= 0 and toks[j].text == ")":
            j = matching_paren(toks, j) - 1
        else:
            j -= 1  # a single parameter without parentheses
        if j >= 0 and toks[j].text == "async":
            j -= 1
        if j >= 1 and toks[j].text in ("=", ":") and toks[j - 1].kind == "word":
            return toks[j - 1].text
        return "(arrow)"
    if prev.text != ")":
        return None
    j = matching_paren(toks, k - 1) - 1
    if j < 0:
        return None
    if toks[j].text == "function":
        return "(function)"
    if toks[j].kind != "word" or toks[j].text in CONTROL:
        return None
    return toks[j].text


def matching_paren(toks, k):
    depth = 0
    for j in range(k, -1, -1):
        if toks[j].text == ")":
            depth += 1
        elif toks[j].text == "(":
            depth -= 1
            if depth == 0:
                return j
    raise SyntaxError("line %d: unbalanced )" % toks[k].line)


def long_functions(src, max_lines=MAX_LINES):
    """[(name, first line, number of lines)] of the functions over max_lines."""
    toks = Lexer(src).run()
    lines = src.split("\n")
    opened = []  # (name or None, line) per open brace
    out = []
    for k, t in enumerate(toks):
        if t.text == "{" and t.kind == "punct":
            opened.append((function_name(toks, k), t.line))
        elif t.text == "}" and t.kind == "punct":
            name, first = opened.pop()
            wrapper = not opened and WRAPPER.match(lines[first - 1])
            n = t.line - first + 1
            if name and not wrapper and n > max_lines:
                out.append((name, first, n))
    return out


def main(argv):
    max_lines = MAX_LINES
    if argv[:1] == ["--max"]:
        max_lines = int(argv[1])
        argv = argv[2:]
    files = [Path(a) for a in argv] or sorted(PORTAL.glob("*.js"))
    bad = 0
    for f in files:
        try:
            found = long_functions(f.read_text(encoding="utf-8"), max_lines)
        except SyntaxError as e:
            print("%s: cannot read: %s" % (f, e))
            bad += 1
            continue
        for name, line, n in sorted(found, key=lambda x: x[1]):
            print("%s:%d: %s is %d lines (at most %d)" % (f, line, name, n, max_lines))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
