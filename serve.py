"""Serve the web page and the HTTP API: emotions in a browser, from its camera or an uploaded photo or video.

    python serve.py                          # http://127.0.0.1:8000 on this machine only; API at /docs
    python serve.py --host 0.0.0.0 --token SECRET --certfile cert.pem --keyfile key.pem   # phones on the LAN

The same as `moodlens serve`; `python serve.py --help` lists the options.
"""

from moodlens import cli

cli.quiet_tensorflow()

from moodlens.commands.serve import main  # noqa: E402  (after quiet_tensorflow)

if __name__ == "__main__":
    cli.run(main)
