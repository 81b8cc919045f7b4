FROM coredns/coredns:1.11.1 AS upstream

FROM alpine:3.19
COPY --from=upstream /coredns /coredns
COPY Corefile /etc/coredns/Corefile
EXPOSE 53/udp 53/tcp 9153
EXPOSE 8080/TCP
EXPOSE 5000-5010
VOLUME ["/etc/coredns", "/var/lib/coredns"]
VOLUME /data /cache
STOPSIGNAL SIGTERM
USER nobody:nogroup
ENTRYPOINT ["/coredns"]
CMD ["-conf", "/etc/coredns/Corefile"]
