FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3-pip git \
    && rm -rf /var/lib/apt/lists/*
RUN pip3 install --no-cache-dir torch==2.3.0 torchvision==0.18.0 --index-url https://download.pytorch.org/whl/cu121
RUN pip3 install transformers accelerate
WORKDIR /workspace
COPY train.py .
ENTRYPOINT ["python3", "train.py"]
CMD ["--epochs", "3"]
