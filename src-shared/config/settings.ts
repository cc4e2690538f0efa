// App settings of a data directory (<dataDir>/settings.json), read by the service at start and
// changed from the app's System view (`settings.get` / `settings.set`). A CLI flag given to the
// service (--auto-resume / --no-auto-resume, --watch-interruptions) wins over the file.
// Every field has a default, so a file written by an older build still parses.
import { z } from 'zod';

/** Which run events notify (desktop and webhook alike), and the thresholds of the two slow ones. */
export const NotificationSettingsSchema = z.strictObject({
  /** show notices as desktop notifications (Electron; the browser's after the user allows them) */
  desktop: z.boolean().default(true),
  completed: z.boolean().default(true),
  failed: z.boolean().default(true),
  /** the loss stopped being finite (the run fails with DIVERGED) */
  diverged: z.boolean().default(true),
  /** a running run took no step for `stalledMinutes` */
  stalled: z.boolean().default(true),
  stalledMinutes: z.number().positive().max(10_080).default(15),
  /** the trainer waited on the data loader for most of its time (see STARVED_WAIT_FRACTION) for `starvedMinutes` */
  starved: z.boolean().default(true),
  starvedMinutes: z.number().positive().max(10_080).default(10),
});

/** http(s) only: a webhook is a JSON POST. */
const WebhookUrlSchema = z
  .string()
  .trim()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'the webhook URL must start with http:// or https://');

export const SettingsSchema = z.strictObject({
  /** resume runs that were training when their process died (crash, kill, power loss) */
  autoResume: z.boolean().default(true),
  /** poll the EC2 metadata service; on a spot interruption or scheduled maintenance, checkpoint and stop the run */
  watchInterruptions: z.boolean().default(false),
  /** the instance metadata base URL (null: http://169.254.169.254) */
  imdsUrl: z.string().url().nullable().default(null),
  notifications: NotificationSettingsSchema.default(NotificationSettingsSchema.parse({})),
  /**
   * a JSON POST for every notice (retried with backoff, never blocking training); null = none.
   * Stored as given; logs show it with its userinfo, query and path tokens redacted.
   */
  webhookUrl: WebhookUrlSchema.nullable().default(null),
});

export type Settings = z.infer<typeof SettingsSchema>;
export type NotificationSettings = z.infer<typeof NotificationSettingsSchema>;

/**
 * A change to some settings. No defaults here (zod would fill every absent field with its default
 * and so reset it): absent fields keep their value, and `notifications` merges field by field.
 */
export const SettingsPatchSchema = z.strictObject({
  autoResume: z.boolean().optional(),
  watchInterruptions: z.boolean().optional(),
  imdsUrl: z.string().url().nullable().optional(),
  notifications: z
    .strictObject({
      desktop: z.boolean().optional(),
      completed: z.boolean().optional(),
      failed: z.boolean().optional(),
      diverged: z.boolean().optional(),
      stalled: z.boolean().optional(),
      stalledMinutes: z.number().positive().max(10_080).optional(),
      starved: z.boolean().optional(),
      starvedMinutes: z.number().positive().max(10_080).optional(),
    })
    .optional(),
  webhookUrl: WebhookUrlSchema.nullable().optional(),
});
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/** The settings after a patch (validated again as a whole). */
export function applySettingsPatch(s: Settings, patch: SettingsPatch): Settings {
  const defined = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  const { notifications, ...rest } = patch;
  return SettingsSchema.parse({ ...s, ...defined(rest), notifications: { ...s.notifications, ...defined(notifications ?? {}) } });
}
