FROM registry.opensuse.org/opensuse/leap:15.6
LABEL maintainer="Platform Team <platform@example.org>"
RUN zypper --non-interactive refresh \
    && zypper --non-interactive install --no-recommends \
         python311 python311-pip git-core curl \
    && zypper clean --all
RUN zypper install -y nginx
COPY nginx.conf /etc/nginx/nginx.conf
EXPOSE 80
CMD ["nginx", "-g", "daemon off;"]
