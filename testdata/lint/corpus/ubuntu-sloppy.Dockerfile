FROM ubuntu
MAINTAINER someone@example.com
RUN apt-get update
RUN apt-get upgrade -y
RUN apt-get install python3 python3-pip curl wget vim sudo
RUN sudo pip3 install flask
RUN cd /opt && mkdir app
ADD app.py /opt/app/
ADD requirements.txt /opt/app/
RUN pip3 install -r /opt/app/requirements.txt
RUN wget https://example.com/tool.tgz && curl -o other.tgz https://example.com/other.tgz
WORKDIR opt/app
EXPOSE 5000
CMD python3 app.py
