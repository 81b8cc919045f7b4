FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4
RUN microdnf install -y --nodocs --setopt=install_weak_deps=0 shadow-utils java-17-openjdk-headless \
    && microdnf clean all \
    && useradd -r -u 185 -g 0 -d /deployments jboss
COPY --chown=185:0 --chmod=g=u target/quarkus-app/ /deployments/
USER 185
ENV JAVA_OPTS_APPEND="-Dquarkus.http.host=0.0.0.0"
ENTRYPOINT [ "java", "-jar", "/deployments/quarkus-run.jar" ]
