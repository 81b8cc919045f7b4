FROM nginx:1.27-alpine
COPY <<EOF /etc/nginx/conf.d/default.conf
server {
    listen       8080;
    server_name  _;
    root         /usr/share/nginx/html;
    location /healthz { return 200 "ok\n"; }
    location / { try_files \$uri \$uri/ /index.html; }
}
EOF
COPY --chmod=0644 <<EOF /usr/share/nginx/html/index.html
<!doctype html>
<title>placeholder</title>
<p>It works.</p>
EOF
COPY --chmod=755 <<'SH' /docker-entrypoint.d/99-env.sh
#!/bin/sh
envsubst < /usr/share/nginx/html/index.html > /tmp/index.html
SH
EXPOSE 8080
