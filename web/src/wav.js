// Recording a spoken request: MediaRecorder captures the microphone, Web
// Audio decodes it and resamples it to what the speech service prefers
// (16 kHz mono), and wavefile writes the 16-bit PCM WAV.

export async function startRecording() {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
  recorder.start();
  return {
    // Stop and return the WAV as base64.
    async stop() {
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.stop();
      await stopped;
      stream.getTracks().forEach((t) => t.stop());
      const blob = new Blob(chunks, { type: recorder.mimeType });
      return encodeWav16k(await blob.arrayBuffer());
    },
  };
}

export async function encodeWav16k(encoded) {
  const ctx = new AudioContext();
  let decoded;
  try {
    decoded = await ctx.decodeAudioData(encoded);
  } finally {
    ctx.close();
  }
  const rate = 16000;
  const frames = Math.max(1, Math.ceil(decoded.duration * rate));
  // Rendering through a 1-channel offline context mixes down and resamples.
  const offline = new OfflineAudioContext(1, frames, rate);
  const src = offline.createBufferSource();
  src.buffer = decoded;
  src.connect(offline.destination);
  src.start();
  const rendered = await offline.startRendering();
  const f32 = rendered.getChannelData(0);
  const pcm = new Int16Array(f32.length);
  for (let i = 0; i < f32.length; i++) pcm[i] = Math.max(-1, Math.min(1, f32[i])) * 0x7fff;
  const { WaveFile } = await import('wavefile');
  const wav = new WaveFile();
  wav.fromScratch(1, rate, '16', pcm);
  return { base64: wav.toBase64(), seconds: f32.length / rate };
}
