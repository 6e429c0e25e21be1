"""Both nginx configurations come from one source: the production snippet
(nginx/postdesk-snippet.conf.in, rendered by scripts/render.sh as
"make install" does) passes `nginx -t` inside a minimal server block, with
the upstreams (nginx/postdesk-upstream.conf.in: one backend, or several
hosts) in the http block, and
the local stack's nginx/nginx.conf.in holds no location, FastCGI parameter
or header of its own — it includes the same rendered snippet (the stack's
own tests, test_stack.py, drive that one). No stack needed."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
NGINX = ROOT / "nginx"
RENDER = ROOT / "scripts" / "render.sh"


def directives(path):
    """The lines of an nginx file that are not comments, stripped."""
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            out.append(line)
    return out


def render(template, out, **values):
    return subprocess.run([str(RENDER), str(template), str(out)]
                          + ["%s=%s" % kv for kv in values.items()],
                          capture_output=True, text=True)


def production(tmp_path):
    """The snippet as make install renders it, but with the headers file in
    tmp_path (production's is /etc/nginx/snippets/postdesk-headers.conf)."""
    shutil.copy(NGINX / "postdesk-headers.conf", tmp_path / "postdesk-headers.conf")
    r = render(NGINX / "postdesk-snippet.conf.in", tmp_path / "postdesk.conf",
               RUN="/run/postdesk", PORTAL_ROOT="/usr/share/postdesk/portal",
               HEADERS=tmp_path / "postdesk-headers.conf")
    assert r.returncode == 0, r.stderr
    return tmp_path / "postdesk.conf"


def upstream(tmp_path, api=("unix:/run/postdesk/api.sock",),
             oauth=("unix:/run/postdesk/oauth.sock",)):
    """The upstreams as make install renders them (API_BACKENDS, OAUTH_BACKENDS)."""
    out = tmp_path / "postdesk-upstream.conf"
    r = subprocess.run([str(RENDER), str(NGINX / "postdesk-upstream.conf.in"), str(out)]
                       + ["API_BACKEND+=" + b for b in api]
                       + ["OAUTH_BACKEND+=" + b for b in oauth], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


def servers(path, name):
    """The server lines of upstream NAME in a rendered file."""
    text = "\n".join(directives(path))
    block = re.search(r"upstream %s \{([^}]*)\}" % name, text).group(1)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_upstreams_list_every_backend(tmp_path):
    one = upstream(tmp_path)
    assert servers(one, "postdesk_api") == [
        "server unix:/run/postdesk/api.sock max_fails=2 fail_timeout=10s;"]
    assert servers(one, "postdesk_oauth") == [
        "server unix:/run/postdesk/oauth.sock max_fails=2 fail_timeout=10s;"]
    two = upstream(tmp_path, api=("unix:/run/postdesk/api.sock", "10.0.0.2:9000"))
    assert servers(two, "postdesk_api") == [
        "server unix:/run/postdesk/api.sock max_fails=2 fail_timeout=10s;",
        "server 10.0.0.2:9000 max_fails=2 fail_timeout=10s;"]


def test_api_retries_only_what_nginx_may_resend():
    """fastcgi_next_upstream error timeout on /api/ (nginx itself never
    resends a POST or PATCH that reached a backend); only "error" on the
    callbacks (Sign in with Microsoft, OAuth), whose one-time code a slow
    first backend may redeem; every location passes to an upstream."""
    text = (NGINX / "postdesk-snippet.conf.in").read_text()
    api = re.search(r"location /api/ \{([^}]*)\}", text).group(1)
    assert "fastcgi_pass postdesk_api;" in api
    assert "fastcgi_next_upstream error timeout;" in api
    # No backend up: the status is the problem's 503, not nginx's 502.
    assert "error_page 502 503 504 =503 @postdesk_unavailable;" in api
    assert "non_idempotent" not in text
    for loc, up in (("= /api/sso/callback", "postdesk_api"), ("= /azure/auth", "postdesk_oauth"),
                    ("= /auth/account/azureresponse", "postdesk_oauth")):
        block = re.search(r"location %s \{([^}]*)\}" % re.escape(loc), text).group(1)
        assert "fastcgi_pass %s;" % up in block
        assert "fastcgi_next_upstream error;" in block
    assert "unix:" not in "\n".join(directives(NGINX / "postdesk-snippet.conf.in"))


@pytest.mark.parametrize("api", [("unix:/run/postdesk/api.sock",),
                                 ("unix:/run/postdesk/api.sock", "10.0.0.2:9000")])
def test_production_snippet_passes_nginx_t(tmp_path, api):
    snippet = production(tmp_path)
    ups = upstream(tmp_path, api=api)
    text = snippet.read_text()
    assert "fastcgi_pass postdesk_api;" in text
    assert "fastcgi_pass postdesk_oauth;" in text
    assert "root /usr/share/postdesk/portal;" in text
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / d).mkdir(parents=True)
    temp = "".join("    %s_temp_path %s/tmp/%s;\n" % (d, tmp_path, d)
                   for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = tmp_path / "nginx.conf"
    conf.write_text("pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n%s"
                    "    access_log off;\n    include %s;\n"
                    "    server {\n        listen 127.0.0.1:8443;\n"
                    "        server_name postdesk.example.com;\n"
                    "        include %s;\n    }\n}\n" % (tmp_path, tmp_path, temp, ups, snippet))
    r = subprocess.run(["nginx", "-t", "-q", "-p", str(tmp_path), "-c", str(conf),
                        "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr + (tmp_path / "error.log").read_text()


def test_local_config_has_no_locations_of_its_own():
    local = directives(NGINX / "nginx.conf.in")
    for word in ("location", "fastcgi_param", "fastcgi_pass", "add_header", "error_page",
                 "root", "try_files"):
        own = [line for line in local if line.split()[0] == word]
        assert not own, "nginx/nginx.conf.in repeats the snippet: %s" % own
    assert "include @NGINX_DIR@/postdesk.conf;" in local
    assert "include @NGINX_DIR@/upstream.conf;" in local
    assert local.count("include @HEADERS@;") == 1  # the plain-HTTP redirect server


def test_snippet_locations():
    snippet = directives(NGINX / "postdesk-snippet.conf.in")
    locations = [line for line in snippet if line.startswith("location")]
    assert locations == ["location /api/ {", "location = /api/sso/callback {", "location = /azure/auth {",
                         "location = /auth/account/azureresponse {",
                         "location @postdesk_too_large {", "location @postdesk_too_many {",
                         "location @postdesk_unavailable {", "location / {"]
    assert "include @HEADERS@;" in snippet


def test_snippet_example_tls_is_the_local_one():
    """The example server block in the snippet's comment says what the local
    stack does (ARCHITECTURE.md, "Sign-in throttling and the session cookie")."""
    def tls(text):
        return {m[1]: m[2] for m in re.finditer(r"(ssl_protocols|ssl_ciphers|ssl_prefer_server_ciphers)"
                                                 r"\s+([^;]+);", text)}
    example = tls((NGINX / "postdesk-snippet.conf.in").read_text())
    local = tls("\n".join(directives(NGINX / "nginx.conf.in")))
    assert example == local and len(local) == 3, (example, local)


def test_a_placeholder_left_fails_the_rendering(tmp_path):
    r = render(NGINX / "postdesk-snippet.conf.in", tmp_path / "x.conf", RUN="/run/postdesk")
    assert r.returncode == 1 and "@PORTAL_ROOT@" in r.stderr, r.stderr
    assert not (tmp_path / "x.conf").exists()


@pytest.mark.parametrize("value", ["/a path/with|bar", "/x&y\\z"])
def test_values_are_taken_literally(tmp_path, value):
    t = tmp_path / "t.in"
    t.write_text("root @PORTAL_ROOT@;\n")
    assert render(t, tmp_path / "t", PORTAL_ROOT=value).returncode == 0
    assert (tmp_path / "t").read_text() == "root %s;\n" % value
