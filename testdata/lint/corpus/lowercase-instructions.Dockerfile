from alpine:3.19 as build
run apk add --no-cache make gcc musl-dev
workdir /src
copy . .
run make

from alpine:3.19
copy --from=build /src/hello /usr/bin/hello
entrypoint ["hello"]
