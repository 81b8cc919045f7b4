FROM centos:7
ENV LANG en_US.UTF-8
ENV JAVA_HOME /usr/lib/jvm/java-1.8.0
ENV PATH $JAVA_HOME/bin:$PATH
ENV CATALINA_HOME=/opt/tomcat CATALINA_BASE=/opt/tomcat
ENV CATALINA_OPTS "-Xms512m -Xmx1024m"
ENV EMPTY_VALUE=""
LABEL version 1.0
RUN yum install -y java-1.8.0-openjdk-headless tar && yum clean all
ADD apache-tomcat-9.0.87.tar.gz /opt/
RUN mv /opt/apache-tomcat-9.0.87 /opt/tomcat
EXPOSE 8080
CMD ["/opt/tomcat/bin/catalina.sh", "run"]
