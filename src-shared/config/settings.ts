// App settings of a data directory (<dataDir>/settings.json), read by the service at start and
// changed from the app's System view (`settings.get` / `settings.set`). A CLI flag given to the
// service (--auto-resume / --no-auto-resume, --watch-interruptions) wins over the file.
import { z } from 'zod';

export const SettingsSchema = z.strictObject({
  /** resume runs that were training when their process died (crash, kill, power loss) */
  autoResume: z.boolean().default(true),
  /** poll the EC2 metadata service; on a spot interruption or scheduled maintenance, checkpoint and stop the run */
  watchInterruptions: z.boolean().default(false),
  /** the instance metadata base URL (null: http://169.254.169.254) */
  imdsUrl: z.string().url().nullable().default(null),
});

export type Settings = z.infer<typeof SettingsSchema>;
export const SettingsPatchSchema = SettingsSchema.partial();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;
