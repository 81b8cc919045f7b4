FROM mambaorg/micromamba:1.5.8
COPY --chown=$MAMBA_USER:$MAMBA_USER environment.yml /tmp/environment.yml
RUN micromamba install -y -n base -f /tmp/environment.yml && \
    micromamba clean --all --yes
ARG MAMBA_DOCKERFILE_ACTIVATE=1
RUN python -c 'import numpy, scipy; print(numpy.__version__, scipy.__version__)'
WORKDIR /home/$MAMBA_USER/work
COPY --chown=$MAMBA_USER:$MAMBA_USER notebooks/ ./notebooks/
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser"]
