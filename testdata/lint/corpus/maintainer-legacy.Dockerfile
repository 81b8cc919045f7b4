FROM debian:jessie
MAINTAINER Jane Doe <jane@example.com>
RUN apt-get update && apt-get install -y apache2 && apt-get clean
ADD site.tar.gz /var/www/
EXPOSE 80
VOLUME /var/log/apache2
CMD /usr/sbin/apache2ctl -D FOREGROUND
