/** `hearth login --url … --key …`: checks the key against the gateway and saves both for later commands. */
import { HearthClient } from '../client.ts';
import { usageError } from '../cli-error.ts';
import { parseCommandArgs, write, type Command } from '../command.ts';
import { checkApiKey, normalizeUrl, saveConfig } from '../config.ts';

const OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
  'no-check': { type: 'boolean' },
} as const;

export const loginCommand: Command = {
  name: 'login',
  summary: 'save the gateway URL and API key',
  help: `Usage: hearth login --url <url> --key <key> [options]

Checks that the gateway answers and accepts the key, then saves both to
~/.config/hearth/config.json (readable by you only). HEARTH_URL and
HEARTH_API_KEY, when set, take precedence over the file.

Options:
      --url <url>    the gateway, e.g. http://127.0.0.1:8080
      --key <key>    the API key (printed by npm start)
      --no-check     save without contacting the gateway
`,
  async run(argv, ctx) {
    const { values } = parseCommandArgs('login', argv, OPTIONS, { required: [] });
    if (!values.url || !values.key) throw usageError('login needs both --url and --key', 'login');
    const config = { url: normalizeUrl(values.url), apiKey: checkApiKey(values.key) };
    if (!values['no-check']) await new HearthClient(config).json('GET', '/v1/functions');
    const path = await saveConfig(ctx.env, config);
    write(ctx.stdout, `logged in to ${config.url}; saved to ${path}`);
    return 0;
  },
};
