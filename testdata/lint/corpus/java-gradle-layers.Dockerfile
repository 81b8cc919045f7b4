FROM gradle:8.7-jdk17 AS build
WORKDIR /home/gradle/project
COPY --chown=gradle:gradle settings.gradle.kts build.gradle.kts gradle.properties ./
COPY --chown=gradle:gradle gradle gradle
RUN gradle dependencies --no-daemon > /dev/null
COPY --chown=gradle:gradle . .
RUN gradle bootJar --no-daemon -x test
RUN java -Djarmode=layertools -jar build/libs/*.jar extract --destination /extracted

FROM eclipse-temurin:17-jre-alpine
WORKDIR /application
COPY --from=build /extracted/dependencies/ ./
COPY --from=build /extracted/spring-boot-loader/ ./
COPY --from=build /extracted/snapshot-dependencies/ ./
COPY --from=build /extracted/application/ ./
ENTRYPOINT ["java", "org.springframework.boot.loader.launch.JarLauncher"]
