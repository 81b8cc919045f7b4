# check=skip=all
from alpine:3.19 as Base
Maintainer "old school"
env LEGACY value
RUN echo hi
cmd echo done
