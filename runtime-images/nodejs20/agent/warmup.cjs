// Imported once by the agent while it waits for work, so the first real
// handler import does not pay for initialising the CommonJS-from-ESM path.
exports.ready = true;
