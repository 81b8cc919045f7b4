# syntax=docker/dockerfile:1
FROM python:3.12-alpine
# Two heredocs feed two commands in one RUN.
RUN <<FILE1 cat > /etc/motd && <<FILE2 cat > /etc/issue
Welcome to the build box.
FILE1
Build box \n \l
FILE2

# A heredoc with an interpreter line runs as its own script.
RUN <<EOF
#!/usr/bin/env python3
import json, pathlib
pathlib.Path("/etc/build.json").write_text(json.dumps({"stage": "multi"}))
EOF

RUN python3 <<PY
import sys
print(sys.version)
PY

COPY <<a.conf <<b.conf /etc/conf.d/
alpha=1
a.conf
beta=2
b.conf
CMD ["cat", "/etc/build.json"]
