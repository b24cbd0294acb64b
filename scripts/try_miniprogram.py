"""Try the WeChat mini-program channel on this machine, with no WeChat account.

Runs the tests' stand-in for WeChat's send API (tests/support/fake_wechat.py) on
127.0.0.1:8191 and plays one citizen: each line you type is pushed to the desk's webhook,
signed as WeChat signs it, and what the desk sent back through the fake API is printed.
Start the desk with the matching settings first (see the README):

    WECHAT_TOKEN=localtry WECHAT_APPID=wx-local-try WECHAT_SECRET=local-secret \\
      WECHAT_API_BASE=http://127.0.0.1:8191 make run
    .venv/bin/python scripts/try_miniprogram.py      # another terminal; Ctrl-D ends

Options: --desk (default http://127.0.0.1:$DESK_PORT or :8000), --port, --openid.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fake_wechat import FakeWeChat, WeChatPusher, text_push  # noqa: E402

TOKEN, APPID, SECRET = "localtry", "wx-local-try", "local-secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--desk", default=f"http://127.0.0.1:{os.environ.get('DESK_PORT', '8000')}")
    parser.add_argument("--port", type=int, default=8191)
    parser.add_argument("--openid", default=f"oLocalTry{uuid.uuid4().hex[:12]}")
    args = parser.parse_args()
    fake = FakeWeChat(appid=APPID, secret=SECRET)
    fake.port, fake.url = args.port, f"http://127.0.0.1:{args.port}"
    fake.start()
    pusher = WeChatPusher(args.desk, token=TOKEN, appid=APPID, fmt="json")
    print(f"fake WeChat API on {fake.url}; citizen {args.openid}; type a message (Ctrl-D ends)")
    seen = 0
    try:
        for msg_id, line in enumerate(sys.stdin, start=int(time.time())):
            answer = pusher.push(text_push(args.openid, line.rstrip("\n"), msg_id))
            if answer.status_code != 200:
                print(f"desk answered {answer.status_code}: {answer.text}  (is it started with the WECHAT_* settings?)")
                continue
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline:  # replies are sent from a task ~0.3 s after the push
                texts = fake.texts_to(args.openid)
                if len(texts) > seen and time.monotonic() > deadline - 6:
                    break
                time.sleep(0.2)
            for text in fake.texts_to(args.openid)[seen:]:
                print("客服 >", text)
            seen = len(fake.texts_to(args.openid))
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
