FROM debian:12
MAINTAINER Jane "JD" Doe <jane@example.com>

# Settings, the old way.
ENV LANG C.UTF-8
ENV GREETING hello big world
ENV QUOTED "already quoted"
ENV PATH /opt/bin:$PATH
	ENV INDENTED value
LABEL description A small image
# This one cannot be rewritten safely: the value mixes quotes and spaces.
ENV MIXED a "b c"
ENV NEW=form
EXPOSE 53/UDP 80
CMD ["sh"]
