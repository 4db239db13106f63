// Preloaded into `bun src/main.ts` by the watchdog test: SIGUSR2 makes the server's event loop hang for good.
process.on('SIGUSR2', () => {
  for (;;);
})
