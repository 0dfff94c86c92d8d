'use client';

import { useApp } from '../../components/app-context.tsx';
import { Console } from '../../components/console.tsx';
import { ApiKeysSection } from '../../components/settings/api-keys.tsx';
import { ExportsSection } from '../../components/settings/exports.tsx';
import { MembersSection } from '../../components/settings/members.tsx';
import { RetentionSection } from '../../components/settings/retention.tsx';
import { UsageSection } from '../../components/settings/usage.tsx';
import { WebhooksSection } from '../../components/settings/webhooks.tsx';
import { useUrlState } from '../../lib/use-url-state.ts';

const TABS = [
  { id: 'members', label: 'Members', scope: 'organization', Section: MembersSection },
  { id: 'api-keys', label: 'API keys', scope: 'project', Section: ApiKeysSection },
  { id: 'retention', label: 'Retention', scope: 'project', Section: RetentionSection },
  { id: 'exports', label: 'Exports', scope: 'project', Section: ExportsSection },
  { id: 'webhooks', label: 'Webhooks', scope: 'project', Section: WebhooksSection },
  { id: 'usage', label: 'Usage and plan', scope: 'organization', Section: UsageSection },
] as const;

export default function SettingsPage() {
  return <Console title="Settings"><Settings /></Console>;
}

function Settings() {
  const { organization, project } = useApp();
  const [params, setParams] = useUrlState();
  if (!params) return null;
  const current = TABS.find((t) => t.id === params.get('tab')) ?? TABS[0];
  const { Section } = current;
  return (
    <div className="settings">
      <nav aria-label="Settings sections" className="settings-tabs">
        <ul>
          {TABS.map((t) => (
            <li key={t.id}>
              <a
                href={`?tab=${t.id}`}
                aria-current={t.id === current.id ? 'page' : undefined}
                onClick={(e) => { e.preventDefault(); setParams((p) => p.set('tab', t.id)); }}
              >
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p className="hint settings-scope">
        {current.scope === 'organization' ? <>Organization <strong>{organization!.name}</strong></> : <>Project <strong>{project!.name}</strong> of {organization!.name}</>}
      </p>
      <Section key={`${current.id}-${organization!.id}-${project!.id}`} />
    </div>
  );
}
