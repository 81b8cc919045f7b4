# hadolint global ignore=DL3059,DL3003
FROM debian:bookworm
# hadolint ignore=DL3008,DL3015
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
RUN cd /tmp && curl -fsSLO https://example.com/a.tgz
# hadolint ignore=DL3025
CMD echo ignored-on-purpose
# hadolint shell=powershell
FROM mcr.microsoft.com/powershell:7.4-debian-12
RUN Get-ChildItem -Path /
