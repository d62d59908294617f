#!/usr/bin/env python3
"""Integration test of the email hook (scripts/hooks/email).

Runs the hook the way the daemon does (argv, no shell, the alert JSON on
stdin, FEEDWATCH_* in a small environment) against a local aiosmtpd
server, and against a stand-in sendmail, and reads what arrives with
Python's email package; and the apprise hook's mailto:// against the same
server, for how it reads an SMTP server's replies.

usage: test_email.py [HOOKS_DIR]     (default: scripts/hooks of this tree)

Needs aiosmtpd (Debian: python3-aiosmtpd), jq and curl. Exits 77 (a skip
for ctest's SKIP_RETURN_CODE) when aiosmtpd cannot be imported.
"""

import importlib.util
import os
import sys

if importlib.util.find_spec("aiosmtpd") is None:
    # CMake may have found a Python (pyenv, a venv) that does not see the
    # Debian package; the system interpreter does.
    system = "/usr/bin/python3"
    if (not os.environ.get("FEEDWATCH_TEST_REEXEC")
            and os.path.exists(system)
            and os.path.realpath(sys.executable) != os.path.realpath(system)):
        os.environ["FEEDWATCH_TEST_REEXEC"] = "1"
        os.execv(system, [system, os.path.abspath(__file__)] + sys.argv[1:])
    print("test_email: aiosmtpd is missing (Debian: python3-aiosmtpd); "
          "skipped")
    sys.exit(77)

import email
import email.policy
import email.utils
import html
import json
import logging
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import traceback
import urllib.parse

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HERE = os.path.dirname(os.path.abspath(__file__))
HOOKS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "scripts", "hooks")
HOOK = os.path.join(os.path.abspath(HOOKS), "email")
PWNED = "/tmp/pwned-feedwatch"

SMTP_USER = "feeduser"
SMTP_PASSWORD = 'p@ss: "quoted" \\back\\slash $(touch /tmp/pwned-feedwatch)'

TITLE = ('Quotes "double" \'single\' $(touch /tmp/pwned-feedwatch) '
         '`touch /tmp/pwned-feedwatch` <script>alert(1)</script> line one\n'
         'line two\r\nBcc: evil@example.org\r\nX-Injected: yes '
         '😀 Привет, мир — проверка')
SNIPPET = ('… known in diplomatic jargon as “track two diplomacy”—a form '
           'of <b>unofficial</b> dialogue & $(touch /tmp/pwned-feedwatch) '
           + 'a long line that must survive transfer ' * 12 + 'end.')
LINK = 'https://forumdaily.example/news/track-two?id=7&ref="rss"'
SOURCES = [
    {"feed": "nbc-world", "url": "https://nbc.example/world/track-two-1"},
    {"feed": "bbc `id`", "url": "https://bbc.example/news/2?a=1&b=2"},
]
ALERT_ID = "9f2c41d07be84c4aa1b5e0d3c2f6a801"


def alert(alert_id=ALERT_ID, title=TITLE):
    return {
        "alert_id": alert_id,
        "watchlist": "track-two",
        "story": {
            "id": 1234,
            "title": title,
            "url": LINK,
            "published": "2023-07-09T14:02:00Z",
            "feed": {"name": "forumdaily $(id)",
                     "url": "https://forumdaily.example/feed"},
            "summary": "plain text summary",
            "sources": SOURCES,
        },
        "matched": ["track two diplomacy"],
        "snippet": SNIPPET,
    }


def one_line(s):
    """The hook's header folding: runs of line breaks and other control
    characters become one space, and the ends are trimmed."""
    return re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]+", " ", s).strip()


# --- the SMTP server -------------------------------------------------------

class Handler:
    def __init__(self):
        self.reset()

    def reset(self):
        self.received = []
        self.rcpt_reply = None
        self.rcpt_reject = set()
        self.data_reply = None

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        if address in self.rcpt_reject:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append({
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "content": envelope.original_content,
            "login": session.login_data,
        })
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    # handled=False: aiosmtpd itself replies (235, or 535 on failure).
    return AuthResult(success=ok, handled=False,
                      auth_data=auth_data if ok else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- running the hook ------------------------------------------------------

TMP = tempfile.mkdtemp(prefix="feedwatch-email-test.")


def base_env(extra=None):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "HOME": TMP, "LANG": "C.UTF-8"}
    a = alert()
    env.update({
        "FEEDWATCH_ALERT_ID": a["alert_id"],
        "FEEDWATCH_WATCHLIST": a["watchlist"],
        "FEEDWATCH_TITLE": a["story"]["title"],
        "FEEDWATCH_URL": a["story"]["url"],
        "FEEDWATCH_FEED": a["story"]["feed"]["name"],
        "FEEDWATCH_PUBLISHED": a["story"]["published"],
        "FEEDWATCH_MATCHED": ", ".join(a["matched"]),
        "FEEDWATCH_SNIPPET": a["snippet"],
    })
    if extra:
        env.update(extra)
    return env


def run(args, stdin, env=None):
    """The hook with args, stdin bytes or a JSON value; no shell."""
    if not isinstance(stdin, bytes):
        stdin = json.dumps(stdin, ensure_ascii=False).encode()
    p = subprocess.run([HOOK] + args, input=stdin, env=env or base_env(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30, shell=False)
    return p.returncode, p.stdout.decode(errors="replace")


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def parts(msg):
    assert msg.get_content_type() == "multipart/alternative", \
        msg.get_content_type()
    plain = msg.get_body(preferencelist=("plain",))
    htm = msg.get_body(preferencelist=("html",))
    assert plain is not None and htm is not None, "a part is missing"
    for p in (plain, htm):
        assert p.get_content_charset() == "utf-8", p["Content-Type"]
        assert p["Content-Transfer-Encoding"] in ("base64",
                                                  "quoted-printable")
    return plain.get_content(), htm.get_content()


def check_lines(raw, eol):
    """7-bit, the given line ends, no line over 78: any MTA takes it."""
    assert all(b < 128 for b in raw), "8-bit data in the raw message"
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, line in enumerate(lines, 1):
        if eol == b"\r\n":
            assert line.endswith(b"\r"), "line %d is not CRLF-ended" % n
            line = line[:-1]
        assert b"\r" not in line, "stray CR in line %d: %r" % (n, line)
        assert len(line) <= 78, "line %d is %d long" % (n, len(line))


def check_story_message(msg, plain, htm):
    """The single alert: headers and both bodies."""
    want = "[feedwatch track-two] " + one_line(TITLE)
    assert msg["Subject"] == want, "Subject %r != %r" % (msg["Subject"], want)
    assert ALERT_ID in msg["Message-ID"], msg["Message-ID"]
    assert msg["Message-ID"] == "<%s@feedwatch>" % ALERT_ID
    assert msg["MIME-Version"] == "1.0"
    assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
    for h in ("Bcc", "X-Injected", "Cc"):
        assert msg[h] is None, "injected header %s: %r" % (h, msg[h])
    assert len(msg.get_all("Subject")) == 1
    uhtml = html.unescape(htm)
    for text, where in ((plain, "text/plain"), (uhtml, "text/html")):
        assert one_line(TITLE) in text, "title missing from " + where
        assert SNIPPET in text, "snippet missing from " + where
        assert LINK in text, "link missing from " + where
        for s in SOURCES:
            assert s["feed"] in text and s["url"] in text, \
                "source %s missing from %s" % (s["feed"], where)
    assert "<script>" not in htm, "title not HTML-escaped"
    assert "&lt;script&gt;" in htm
    assert "<b>unofficial</b>" not in htm, "snippet not HTML-escaped"
    assert 'href="%s"' % html.escape(LINK, quote=True).replace(
        "&#x27;", "&#39;") in htm, "no link to the story"


# --- the tests -------------------------------------------------------------

class Env:
    """What the tests share: the server and its URL."""


E = Env()


def test_smtp_alert():
    rc, out = run(["--smtp", E.url, "--from", "feedwatch@example.net",
                   "--to", "desk@example.org",
                   "--to", "ops@example.org, night@example.org"], alert())
    assert rc == 0, "exit %d: %s" % (rc, out)
    assert len(E.h.received) == 1, "%d messages" % len(E.h.received)
    got = E.h.received[0]
    assert got["mail_from"] == "feedwatch@example.net", got["mail_from"]
    assert got["rcpt_tos"] == ["desk@example.org", "ops@example.org",
                               "night@example.org"], got["rcpt_tos"]
    assert got["login"] is None
    msg = parse(got["content"])
    assert msg["From"] == "feedwatch@example.net", msg["From"]
    assert [a.addr_spec for a in msg["To"].addresses] == got["rcpt_tos"]
    plain, htm = parts(msg)
    check_story_message(msg, plain, htm)
    check_lines(got["content"], b"\r\n")
    head = got["content"].split(b"\r\n\r\n", 1)[0].decode("ascii")
    words = re.findall(r"=\?[Uu][Tt][Ff]-8\?[BbQq]\?[^?]*\?=", head)
    assert len(words) > 1, "the subject is not split into encoded words"
    assert all(len(w) <= 75 for w in words), "an encoded word over 75"
    assert not os.path.exists(PWNED), PWNED + " was created"


def test_retry_keeps_message_id():
    ids = []
    for _ in range(2):
        rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert())
        assert rc == 0, "exit %d: %s" % (rc, out)
    ids = [parse(m["content"])["Message-ID"] for m in E.h.received]
    assert len(ids) == 2 and ids[0] == ids[1], ids


def test_default_from():
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert())
    assert rc == 0, "exit %d: %s" % (rc, out)
    msg = parse(E.h.received[0]["content"])
    assert msg["From"].addresses[0].username == "feedwatch", msg["From"]
    assert E.h.received[0]["mail_from"] == msg["From"].addresses[0].addr_spec


def test_digest():
    titles = ["First story «один»", "Second story 😀", "Third story"]
    digest = {"watchlist": "track-two",
              "alerts": [alert("a%d" % i, t) for i, t in enumerate(titles)]}
    for _ in range(2):
        rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], digest)
        assert rc == 0, "exit %d: %s" % (rc, out)
    assert len(E.h.received) == 2, "%d messages" % len(E.h.received)
    check_lines(E.h.received[0]["content"], b"\r\n")
    msg = parse(E.h.received[0]["content"])
    assert msg["Subject"] == "[feedwatch track-two] 3 new stories", \
        msg["Subject"]
    plain, htm = parts(msg)
    for t in titles:
        assert t in plain, "%r missing from text/plain" % t
        assert t in html.unescape(htm), "%r missing from text/html" % t
    assert plain.count(LINK) == 3 and html.unescape(htm).count(SNIPPET) == 3
    again = parse(E.h.received[1]["content"])
    assert msg["Message-ID"] == again["Message-ID"], "digest id not stable"
    assert ALERT_ID not in msg["Message-ID"]


def test_auth_user_file():
    path = os.path.join(TMP, "smtp-cred")
    with open(path, "w") as f:
        f.write("%s:%s\n" % (SMTP_USER, SMTP_PASSWORD))
    os.chmod(path, 0o600)
    # A curl in front of the real one records the command line.
    bindir = os.path.join(TMP, "bin")
    os.makedirs(bindir, exist_ok=True)
    argv_log = os.path.join(TMP, "curl-argv")
    wrapper = os.path.join(bindir, "curl")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "$@" >>"$ARGV_LOG"\n'
                'exec %s "$@"\n' % shutil.which("curl"))
    os.chmod(wrapper, 0o755)
    env = base_env({"PATH": bindir + ":" + os.environ["PATH"],
                    "ARGV_LOG": argv_log})
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org",
                   "--user-file", path], alert(), env)
    assert rc == 0, "exit %d: %s" % (rc, out)
    assert len(E.h.received) == 1
    assert E.h.received[0]["login"] == SMTP_USER.encode(), "not logged in"
    with open(argv_log) as f:
        argv = f.read()
    assert "--mail-rcpt" in argv, "the wrapper did not run"
    assert "p@ss" not in argv, "password on curl's command line"
    assert not os.path.exists(PWNED), PWNED + " was created"


def test_auth_env():
    env = base_env({"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": SMTP_PASSWORD})
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert(),
                  env)
    assert rc == 0, "exit %d: %s" % (rc, out)
    assert E.h.received[0]["login"] == SMTP_USER.encode(), "not logged in"


def test_auth_credentials_directory():
    creds = os.path.join(TMP, "credentials")
    os.makedirs(creds, exist_ok=True)
    with open(os.path.join(creds, "smtp-user"), "w") as f:
        f.write("%s:%s" % (SMTP_USER, SMTP_PASSWORD))
    env = base_env({"CREDENTIALS_DIRECTORY": creds})
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert(),
                  env)
    assert rc == 0, "exit %d: %s" % (rc, out)
    assert E.h.received[0]["login"] == SMTP_USER.encode(), "not logged in"
    # Or the user name and the password in two credentials.
    with open(os.path.join(creds, "smtp-user"), "w") as f:
        f.write(SMTP_USER + "\n")
    with open(os.path.join(creds, "smtp-password"), "w") as f:
        f.write(SMTP_PASSWORD + "\n")
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert(),
                  env)
    assert rc == 0, "exit %d: %s" % (rc, out)
    assert E.h.received[1]["login"] == SMTP_USER.encode(), "not logged in"


def test_wrong_password_is_permanent():
    env = base_env({"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": "wrong"})
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert(),
                  env)
    assert rc == 1, "exit %d, not 1: %s" % (rc, out)
    assert not E.h.received


def test_no_credentials_in_clear_to_remote_host():
    env = base_env({"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": "x"})
    rc, out = run(["--smtp", "smtp://mail.example.org:587",
                   "--to", "desk@example.org"], alert(), env)
    assert rc == 2, "exit %d, not 2: %s" % (rc, out)


def test_451_on_data_is_temporary():
    E.h.data_reply = "451 try later"
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert())
    assert rc == 75, "exit %d, not 75: %s" % (rc, out)


def test_451_on_rcpt_is_temporary():
    E.h.rcpt_reply = "451 try later"
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert())
    assert rc == 75, "exit %d, not 75: %s" % (rc, out)


def test_550_is_permanent():
    E.h.rcpt_reply = "550 no such user"
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], alert())
    assert rc == 1, "exit %d, not 1: %s" % (rc, out)


def test_one_refused_recipient():
    """A recipient the server refuses does not keep the others from the
    alert: it reaches desk@, and the hook reports it delivered."""
    E.h.rcpt_reject = {"gone@example.org"}
    rc, out = run(["--smtp", E.url, "--to", "desk@example.org",
                   "--to", "gone@example.org"], alert())
    assert rc == 0, "exit %d, not 0: %s" % (rc, out)
    assert len(E.h.received) == 1, E.h.received
    assert E.h.received[0]["rcpt_tos"] == ["desk@example.org"], \
        E.h.received[0]["rcpt_tos"]


def test_closed_port_is_temporary():
    rc, out = run(["--smtp", "smtp://127.0.0.1:%d" % free_port(),
                   "--to", "desk@example.org"], alert())
    assert rc == 75, "exit %d, not 75: %s" % (rc, out)


def test_usage_errors():
    cases = [
        [],
        ["--smtp", E.url],
        ["--to"],
        ["--to", "desk@example.org", "--bogus"],
        ["--to", "desk@example.org", "stray"],
        ["--to", "desk@example.org\r\nBcc: evil@example.org"],
        ["--to", "desk@example.org\nBcc: evil@example.org"],
        ["--to", "Desk <desk@example.org>"],
        ["--to", "desk@example.org", "--from", "a@b.org\r\nBcc: e@x.org"],
        ["--to", "desk@example.org", "--smtp", "http://127.0.0.1/"],
        ["--to", "desk@example.org", "--smtp", "smtp://user:pw@host/"],
        ["--to", "desk@example.org", "--smtp", E.url, "--timeout", "x"],
        ["--to", "desk@example.org", "--user-file", "/nonexistent"],
    ]
    for args in cases:
        rc, out = run(args, alert())
        assert rc == 2, "%r: exit %d, not 2: %s" % (args, rc, out)
    assert not E.h.received, "a usage error sent mail"
    rc, out = run(["--help"], b"")
    assert rc == 0 and "usage: email" in out, "--help: %d %s" % (rc, out)


def test_bad_input_is_permanent():
    for stdin in (b"", b"not json", b"[1, 2]", b'{"alerts": 3}'):
        rc, out = run(["--smtp", E.url, "--to", "desk@example.org"], stdin)
        assert rc == 1, "%r: exit %d, not 1: %s" % (stdin, rc, out)
    assert not E.h.received


def fake_sendmail(exit_status=0):
    d = tempfile.mkdtemp(dir=TMP)
    path = os.path.join(d, "sendmail")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/args"\n'
                'cat >"%s/message"\nexit %d\n' % (d, d, exit_status))
    os.chmod(path, stat.S_IRWXU)
    return d


def test_sendmail():
    d = fake_sendmail()
    env = base_env({"PATH": d + ":" + os.environ["PATH"]})
    rc, out = run(["--to", "desk@example.org", "--from",
                   "feedwatch@example.net"], alert(), env)
    assert rc == 0, "exit %d: %s" % (rc, out)
    with open(os.path.join(d, "args")) as f:
        args = f.read().split("\n")[:-1]
    assert args == ["-oi", "-t", "-f", "feedwatch@example.net"], args
    with open(os.path.join(d, "message"), "rb") as f:
        raw = f.read()
    msg = parse(raw)
    assert [a.addr_spec for a in msg["To"].addresses] == ["desk@example.org"]
    plain, htm = parts(msg)
    check_story_message(msg, plain, htm)
    check_lines(raw, b"\n")
    assert not os.path.exists(PWNED), PWNED + " was created"


def test_sendmail_option_and_tempfail():
    d = fake_sendmail(75)
    rc, out = run(["--to", "desk@example.org", "--sendmail",
                   os.path.join(d, "sendmail")], alert())
    assert rc == 75, "exit %d, not 75: %s" % (rc, out)
    d = fake_sendmail(67)
    rc, out = run(["--to", "desk@example.org", "--sendmail",
                   os.path.join(d, "sendmail")], alert())
    assert rc == 1, "exit %d, not 1: %s" % (rc, out)


class Skip(Exception):
    pass


def test_tls():
    """--starttls and smtps://, with credentials, checked with --cacert."""
    if shutil.which("openssl") is None:
        raise Skip("no openssl to make a certificate")
    import ssl
    cert = os.path.join(TMP, "cert.pem")
    key = os.path.join(TMP, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=30)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    env = base_env({"SMTP_USER": SMTP_USER, "SMTP_PASSWORD": SMTP_PASSWORD})
    for scheme, kwargs, extra in (
            ("smtp", {"tls_context": ctx, "require_starttls": True},
             ["--starttls"]),
            # aiosmtpd does not count implicit TLS as TLS for AUTH.
            ("smtps", {"ssl_context": ctx, "auth_require_tls": False}, [])):
        h = Handler()
        port = free_port()
        server = Controller(h, hostname="127.0.0.1", port=port,
                            authenticator=authenticator, **kwargs)
        server.start()
        try:
            url = "%s://127.0.0.1:%d" % (scheme, port)
            rc, out = run(["--smtp", url, "--to", "desk@example.org",
                           "--cacert", cert] + extra, alert(), env)
            assert rc == 0, "%s: exit %d: %s" % (scheme, rc, out)
            assert len(h.received) == 1, scheme + ": nothing received"
            assert h.received[0]["login"] == SMTP_USER.encode(), \
                scheme + ": not logged in"
            # Without the CA the certificate does not verify: permanent.
            rc, out = run(["--smtp", url, "--to", "desk@example.org"]
                          + extra, alert(), env)
            assert rc == 1, "%s unverified: exit %d: %s" % (scheme, rc, out)
            assert len(h.received) == 1
        finally:
            server.stop()


def run_apprise(password):
    """The apprise hook, mailto:// to the test's server as SMTP_USER."""
    if shutil.which("apprise") is None:
        raise Skip("no apprise")
    urls = os.path.join(TMP, "apprise-urls")
    with open(urls, "w") as f:
        f.write("mailto://%s:%s@127.0.0.1:%s?from=feedwatch@example.net"
                "&to=desk@example.org\n"
                % (SMTP_USER, urllib.parse.quote(password, safe=""),
                   E.url.rsplit(":", 1)[1]))
    p = subprocess.run([os.path.join(os.path.dirname(HOOK), "apprise"),
                        "--url-file", urls], input=json.dumps(alert()).encode(),
                       env=base_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace")


def test_apprise_smtp_replies():
    """The apprise hook tells an SMTP server's 4xx reply (try again)
    from its 5xx (refused): a wrong password (535) was retried forever
    as a "connection error", a 451 to the message never."""
    rc, out = run_apprise(SMTP_PASSWORD)
    assert rc == 0 and len(E.h.received) == 1, "exit %d: %s" % (rc, out)
    rc, out = run_apprise("wrong")
    assert rc == 1 and "535" in out, "wrong password: exit %d: %s" % (rc, out)
    E.h.data_reply = "451 try later"
    rc, out = run_apprise(SMTP_PASSWORD)
    assert rc == 75, "451: exit %d, not 75: %s" % (rc, out)
    E.h.data_reply = "554 refused"
    rc, out = run_apprise(SMTP_PASSWORD)
    assert rc == 1, "554: exit %d, not 1: %s" % (rc, out)
    assert len(E.h.received) == 1, E.h.received


TESTS = [v for k, v in list(globals().items()) if k.startswith("test_")]


def main():
    for tool in ("jq", "curl"):
        if shutil.which(tool) is None:
            print("test_email: %s is missing" % tool)
            return 1
    if not os.access(HOOK, os.X_OK):
        print("test_email: %s is not executable" % HOOK)
        return 1
    if os.path.exists(PWNED):
        os.remove(PWNED)
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    E.h = Handler()
    port = free_port()
    E.url = "smtp://127.0.0.1:%d" % port
    server = Controller(E.h, hostname="127.0.0.1", port=port,
                        authenticator=authenticator, auth_require_tls=False)
    server.start()
    passed = failed = 0
    try:
        for t in TESTS:
            E.h.reset()
            try:
                t()
            except Skip as e:
                print("skip %s: %s" % (t.__name__, e))
            except Exception as e:
                failed += 1
                print("FAIL %s: %s" % (t.__name__, e or type(e).__name__))
                if not isinstance(e, AssertionError):
                    traceback.print_exc()
            else:
                passed += 1
                print("ok   %s" % t.__name__)
    finally:
        server.stop()
        shutil.rmtree(TMP, ignore_errors=True)
    if os.path.exists(PWNED):
        failed += 1
        print("FAIL %s exists: feed text reached a shell" % PWNED)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
