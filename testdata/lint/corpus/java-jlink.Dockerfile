FROM eclipse-temurin:21-jdk-alpine AS jre
RUN apk add --no-cache binutils
# A trimmed runtime holding only the modules the service needs.
RUN $JAVA_HOME/bin/jlink \
        --add-modules java.base,java.logging,java.naming,java.net.http,java.sql,jdk.unsupported \
        --strip-debug \
        --no-man-pages \
        --no-header-files \
        --compress=zip-6 \
        --output /javaruntime

FROM alpine:3.19
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH="${JAVA_HOME}/bin:${PATH}"
COPY --from=jre /javaruntime $JAVA_HOME
RUN addgroup -S app && adduser -S app -G app
COPY --chown=app:app target/ledger.jar /srv/ledger.jar
USER app
CMD ["java", "-jar", "/srv/ledger.jar"]
