from alpine:3.20 AS base
run apk add --no-cache curl
env APP_HOME /srv/app
maintainer ops@example.com
WORKDIR /srv/app
expose 80/TCP
cmd ["sh"]
