# syntax=docker/dockerfile:1.4
FROM alpine:3.19
# <<- strips leading tabs from the body and from the terminator line.
RUN <<-SCRIPT
	set -e
	if [ ! -d /data ]; then
		mkdir -p /data
	fi
	echo "ready" > /data/state
	SCRIPT
COPY <<-CONF /etc/app/app.ini
	[server]
	port = 9090
	[log]
	level = info
	CONF
CMD ["cat", "/data/state"]
