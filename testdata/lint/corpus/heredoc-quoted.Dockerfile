FROM alpine:3.19
ENV GREETING=hello
# Quoted delimiters: no expansion, the text goes to the shell as written.
RUN <<'EOT' sh
printf '%s\n' "$GREETING from single quotes"
echo '$HOME stays literal here' > /tmp/literal
EOT
RUN <<"END"
echo "double-quoted delimiter: $GREETING"
END
COPY <<'EOF' /usr/local/bin/entry
#!/bin/sh
exec "$@"
EOF
RUN chmod +x /usr/local/bin/entry
ENTRYPOINT ["/usr/local/bin/entry"]
CMD ["sh"]
