#!/usr/bin/env python3
"""End-to-end test of the Confab desktop app through WebKitWebDriver (Python stdlib only).

Started by tests/desktop/run.sh, which provides (environment):
  CONFAB_URL        the running server, e.g. http://127.0.0.1:43123
  DESKTOP_BIN       absolute path of the confab-desktop binary
  WEBDRIVER_URL     the running WebKitWebDriver, e.g. http://127.0.0.1:4444
  CONFAB_CLI        the `confab` command-line client; CONFAB_CONFIG_DIR holds bob's login
  ALICE, BOB        the two usernames (both registered); PASSWORD
  ARTIFACTS         folder for the screenshot and logs

Alice signs in in the desktop app; bob (the CLI) writes to her; the app's badge shows one
unread message and its notification decision names bob's text; alice opens the conversation
(the badge clears), replies, and bob receives the reply.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

URL = os.environ["CONFAB_URL"]
BIN = os.environ["DESKTOP_BIN"]
WD = os.environ["WEBDRIVER_URL"].rstrip("/")
CLI = os.environ["CONFAB_CLI"]
ALICE = os.environ["ALICE"]
BOB = os.environ["BOB"]
PASSWORD = os.environ["PASSWORD"]
ARTIFACTS = os.environ["ARTIFACTS"]
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name} {detail}", flush=True)
    return ok


class WebDriverError(Exception):
    pass


def wd(method, path, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(WD + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"{}").get("value")
    except urllib.error.HTTPError as e:
        raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:400]!r}") from None


class Session:
    def __init__(self):
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "webkitgtk:browserOptions": {"binary": BIN, "args": ["--server", URL]},
                }
            }
        }
        v = wd("POST", "/session", caps, timeout=120)
        self.id = v["sessionId"]

    def cmd(self, method, path, body=None, timeout=60):
        return wd(method, f"/session/{self.id}{path}", body, timeout)

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def js_async(self, script, *args):
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def find(self, css):
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [f[ELEMENT] for f in found]

    def wait(self, what, fn, timeout=30):
        end = time.time() + timeout
        last = None
        while time.time() < end:
            try:
                last = fn()
                if last:
                    return last
            except WebDriverError as e:
                last = e
            time.sleep(0.25)
        raise TimeoutError(f"timed out waiting for {what} (last: {last!r})")

    def wait_css(self, css, timeout=30):
        return self.wait(css, lambda: self.find(css), timeout)[0]

    def type(self, el, text):
        self.cmd("POST", f"/element/{el}/value", {"text": text})

    def click(self, el):
        self.cmd("POST", f"/element/{el}/click", {})

    def quit(self):
        try:
            self.cmd("DELETE", "", timeout=20)
        except Exception:
            pass


INVOKE = """
const [cmd, done] = [arguments[0], arguments[arguments.length - 1]];
window.__TAURI_INTERNALS__.invoke(cmd).then((v) => done({ ok: v }), (e) => done({ err: String(e && e.message || e) }));
"""


def measure_idle_memory(settle=15):
    """The RSS of the app and its WebKit processes, signed in and idle (WebKitWebDriver excluded)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from measure import rss_of_tree

    time.sleep(settle)
    procs = rss_of_tree(int(os.environ["WEBDRIVER_PID"]), skip_root=True)
    total = sum(r for _, _, r in procs)
    lines = [f"  {n} (pid {p}): {r / 1024:.1f} MiB" for p, n, r in procs]
    report = "idle memory, signed in, {}s after sign-in: {:.1f} MiB total\n{}".format(settle, total / 1024, "\n".join(lines))
    print(report, flush=True)
    with open(os.path.join(ARTIFACTS, "memory.txt"), "w") as f:
        f.write(report + "\n")


def main():
    s = None
    listener = None
    try:
        t0 = time.time()
        s = Session()
        check("app starts under WebKitWebDriver", True)
        user = s.wait_css("input[name=username]", timeout=60)
        print(f"     sign-in screen after {time.time() - t0:.1f}s", flush=True)
        boot = s.js("return window.__CONFAB_DESKTOP__ || null")
        check("the shell tells the page its server", boot and boot.get("serverUrl") == URL, repr(boot))
        check("the desktop entry is loaded", "/src/desktop/" in (s.js("return location.pathname") or ""), s.js("return location.href"))

        s.type(user, ALICE)
        s.type(s.find("input[name=password]")[0], PASSWORD)
        s.click(s.find("[data-testid=auth-submit]")[0])
        s.wait_css("[data-testid=nav-chats]", timeout=30)
        s.wait("connected", lambda: s.js("const b = document.querySelector('[data-testid=connection-banner]'); return !b || b.dataset.status === 'connected'"))
        check("signs in", True)
        if os.environ.get("MEASURE"):
            measure_idle_memory()
        st = s.wait("badge state", lambda: s.js_async(INVOKE, "unread_state"))
        check("no unread at first", st.get("ok", {}).get("count") == 0, repr(st))

        # bob listens for alice's reply from now on
        listener = subprocess.Popen(
            [CLI, "--server", URL, "--json", "listen", "--timeout", "120"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        heard = []
        threading.Thread(target=lambda: heard.extend(iter(listener.stdout.readline, "")), daemon=True).start()
        subprocess.run([CLI, "--server", URL, "send", "--to", ALICE, "hello from bob"], check=True, timeout=30)

        s.wait("data-desktop-unread=1", lambda: s.js("return document.documentElement.dataset.desktopUnread") == "1", timeout=30)
        st = s.js_async(INVOKE, "unread_state").get("ok", {})
        check("the badge counts the message", st.get("count") == 1 and st.get("badge") == 1, repr(st))
        check("title and tray show the count", st.get("title") == "(1) Confab" and "1 unread" in st.get("tooltip", ""), repr(st))
        try:
            notified = s.wait("notification decision", lambda: s.js("return document.documentElement.dataset.desktopNotified"), timeout=10)
        except TimeoutError:
            notified = "error: " + repr(s.js("return document.documentElement.dataset.desktopError || null"))
        check("a notification is shown with bob's text", notified.endswith("|hello from bob"), repr(notified))

        conv = s.wait("conversation in the list", lambda: s.js(
            "return [...document.querySelectorAll('[data-testid=conversation]')].find((e) => e.innerText.includes(arguments[0])) || null",
            "hello from bob"))
        conv = conv[ELEMENT]
        s.click(conv)
        s.wait_css("[data-testid=chat-view]")
        s.wait("message shown", lambda: s.js("return [...document.querySelectorAll('[data-testid=message]')].some((e) => e.innerText.includes('hello from bob'))"))
        check("opens the conversation", True)
        s.wait("badge cleared", lambda: s.js("return document.documentElement.dataset.desktopUnread") == "0", timeout=20)
        st = s.js_async(INVOKE, "unread_state").get("ok", {})
        check("reading clears the badge", st.get("count") == 0 and st.get("badge") is None and st.get("title") == "Confab", repr(st))

        box = s.wait_css("[data-testid=composer-input]")
        s.type(box, "hi bob, from the desktop")
        s.click(s.wait_css("[data-testid=send]"))
        try:
            s.wait("bob hears the reply", lambda: any("hi bob, from the desktop" in line for line in heard), timeout=60)
            check("bob receives the reply", True)
        except TimeoutError:
            check("bob receives the reply", False, f"bob's events: {''.join(heard)[-600:]!r}")

        # The reply in the open conversation; retried while the window is still blank.
        s.wait("reply shown", lambda: s.js("return [...document.querySelectorAll('[data-testid=message]')].some((e) => e.innerText.includes('hi bob, from the desktop'))"))
        shot = os.path.join(ARTIFACTS, "desktop.png")
        for _ in range(10):
            time.sleep(1)
            r = subprocess.run(["import", "-window", "root", shot], capture_output=True, timeout=30)
            sd = subprocess.run(["identify", "-format", "%[fx:standard_deviation]", shot + "[1000x700+0+0]"], capture_output=True, text=True, timeout=30)
            if r.returncode == 0 and float(sd.stdout or 0) > 0.05:
                break
        check("screenshot saved", r.returncode == 0 and os.path.getsize(shot) > 0, r.stderr[-200:])
    except Exception as e:  # a step that cannot go on fails the run
        check("scenario completes", False, f"{type(e).__name__}: {e}")
        if s is not None:
            try:
                subprocess.run(["import", "-window", "root", os.path.join(ARTIFACTS, "failure.png")], timeout=30)
            except Exception:
                pass
    finally:
        if listener is not None:
            listener.kill()
        if s is not None:
            s.quit()
    print(f"desktop: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
