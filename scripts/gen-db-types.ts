/**
 * `npm run gen:db-types`: writes supabase/types/database.ts, the `Database` type supabase-js takes
 * (`createClient<Database>(url, anonKey)`), in the shape `supabase gen types typescript` writes
 * (Tables with Row / Insert / Update / Relationships, Views, Functions, Enums, CompositeTypes, and the
 * Tables / TablesInsert / TablesUpdate / Enums helpers). That command needs Docker; this reads the
 * same catalog from the migrations applied to an in-memory PGlite, so it runs anywhere and always
 * describes the migrations, never a database that drifted.
 *
 * It describes what a dashboard may use under RLS, as the `authenticated` role: a table or view is
 * listed when that role may SELECT some of its columns, and with only those columns (column grants
 * keep secret hashes and sealed secrets out of reach, so they are left out of Row too); Insert and
 * Update list only the columns it may INSERT or UPDATE (a table it may not write has an empty
 * `[_ in never]: never` there); Functions are the public ones it may EXECUTE. `--check` exits 1 when the file differs
 * (tests/e2e/db-types.test.ts runs the same comparison).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgliteDb } from '../src/db/pglite.ts';
import type { Queryable } from '../src/db/types.ts';
import { migrateDb } from '../src/node/deps.ts';

export const DB_TYPES_FILE = 'supabase/types/database.ts';
const ROLE = 'authenticated';

interface ColumnRow {
  table: string;
  kind: string;
  column: string;
  type: string;
  type_kind: string;
  category: string;
  elem: string | null;
  elem_kind: string | null;
  not_null: boolean;
  has_default: boolean;
  identity: string;
  generated: string;
  may_select: boolean;
  may_insert: boolean;
  may_update: boolean;
}

const NUMBER = new Set(['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'oid']);
const STRING = new Set(['text', 'varchar', 'bpchar', 'char', 'name', 'uuid', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'inet', 'cidr', 'macaddr', 'citext', 'bytea', 'tsvector', 'tsquery', 'money', 'bit', 'varbit', 'xml', 'ltree']);

/** A Postgres type as postgres-meta (what `supabase gen types` runs) writes it. */
function tsType(name: string, kind: string, enums: Set<string>): string {
  if (name === 'bool') return 'boolean';
  if (NUMBER.has(name)) return 'number';
  if (STRING.has(name)) return 'string';
  if (name === 'json' || name === 'jsonb') return 'Json';
  if (name === 'void') return 'undefined';
  if (kind === 'e' && enums.has(name)) return `Database["public"]["Enums"]["${name}"]`;
  return 'unknown';
}

function columnType(c: Pick<ColumnRow, 'type' | 'type_kind' | 'category' | 'elem' | 'elem_kind'>, enums: Set<string>): string {
  if (c.category === 'A' && c.elem) return `${tsType(c.elem, c.elem_kind ?? '', enums)}[]`;
  return tsType(c.type, c.type_kind, enums);
}

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name));

export async function generateDbTypes(db: Queryable): Promise<string> {
  const enumRows = await db.query<{ name: string; value: string }>(
    `select t.typname as name, e.enumlabel as value
     from pg_type t join pg_namespace n on n.oid = t.typnamespace join pg_enum e on e.enumtypid = t.oid
     where n.nspname = 'public' order by t.typname, e.enumsortorder`,
  );
  const enums = new Map<string, string[]>();
  for (const r of enumRows) enums.set(r.name, [...(enums.get(r.name) ?? []), r.value]);
  const enumNames = new Set(enums.keys());

  const columns = await db.query<ColumnRow>(
    `select c.relname as table, c.relkind::text as kind, a.attname as column, t.typname as type, t.typtype::text as type_kind,
            t.typcategory::text as category, et.typname as elem, et.typtype::text as elem_kind,
            a.attnotnull as not_null, a.atthasdef as has_default, a.attidentity::text as identity, a.attgenerated::text as generated,
            has_column_privilege($1, c.oid, a.attnum, 'SELECT') as may_select,
            has_column_privilege($1, c.oid, a.attnum, 'INSERT') as may_insert,
            has_column_privilege($1, c.oid, a.attnum, 'UPDATE') as may_update
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     join pg_type t on t.oid = a.atttypid
     left join pg_type et on et.oid = t.typelem and t.typcategory = 'A'
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
     order by c.relname, a.attnum`,
    [ROLE],
  );
  const relations = new Map<string, { kind: string; columns: ColumnRow[] }>();
  for (const c of columns) {
    if (!c.may_select) continue;
    const r = relations.get(c.table) ?? { kind: c.kind, columns: [] };
    r.columns.push(c);
    relations.set(c.table, r);
  }

  const fks = await db.query<{ name: string; table: string; columns: string[]; referenced: string; referenced_columns: string[]; one_to_one: boolean }>(
    `select con.conname as name, c.relname as table, rc.relname as referenced,
            array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i) as columns,
            array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i) join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i) as referenced_columns,
            exists (select 1 from pg_index i where i.indrelid = con.conrelid and i.indisunique and i.indpred is null
                    and (select array_agg(x order by x) from unnest(i.indkey::int2[]) x) = (select array_agg(x order by x) from unnest(con.conkey) x)) as one_to_one
     from pg_constraint con
     join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
     join pg_class rc on rc.oid = con.confrelid join pg_namespace rn on rn.oid = rc.relnamespace
     where con.contype = 'f' and n.nspname = 'public' and rn.nspname = 'public' and not c.relispartition and con.conparentid = 0
     order by c.relname, con.conname`,
  );

  const functions = await db.query<{ name: string; arg_names: string[] | null; arg_types: string[]; arg_kinds: string[]; arg_cats: string[]; arg_elems: (string | null)[]; ret: string; ret_kind: string; ret_cat: string; ret_elem: string | null; set: boolean }>(
    `select p.proname as name, p.proargnames::text[] as arg_names,
            array(select t.typname::text from unnest(p.proargtypes::oid[]) with ordinality x(o, i) join pg_type t on t.oid = x.o order by x.i) as arg_types,
            array(select t.typtype::text from unnest(p.proargtypes::oid[]) with ordinality x(o, i) join pg_type t on t.oid = x.o order by x.i) as arg_kinds,
            array(select t.typcategory::text from unnest(p.proargtypes::oid[]) with ordinality x(o, i) join pg_type t on t.oid = x.o order by x.i) as arg_cats,
            array(select et.typname::text from unnest(p.proargtypes::oid[]) with ordinality x(o, i) join pg_type t on t.oid = x.o left join pg_type et on et.oid = t.typelem and t.typcategory = 'A' order by x.i) as arg_elems,
            rt.typname as ret, rt.typtype::text as ret_kind, rt.typcategory::text as ret_cat, ret.typname as ret_elem, p.proretset as set
     from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_type rt on rt.oid = p.prorettype
     left join pg_type ret on ret.oid = rt.typelem and rt.typcategory = 'A'
     where n.nspname = 'public' and p.prokind = 'f' and rt.typname not in ('trigger', 'event_trigger')
       and has_function_privilege($1, p.oid, 'EXECUTE')
     order by p.proname, p.oid`,
    [ROLE],
  );

  const out: string[] = [];
  const w = (line: string) => out.push(line);
  w('// Generated by `npm run gen:db-types` (scripts/gen-db-types.ts) from supabase/migrations: do not edit.');
  w('// What the `authenticated` role may read (and write) through PostgREST, column grants applied; RLS');
  w('// still decides which rows. Use: createClient<Database>(url, anonKey) (docs/SUPABASE-JS.md).');
  w('');
  w('export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];');
  w('');
  w('export type Database = {');
  w('  public: {');
  const relationshipLines = (table: string, indent: string) => {
    const mine = fks.filter((f) => f.table === table);
    if (mine.length === 0) return [`${indent}Relationships: [];`];
    const lines = [`${indent}Relationships: [`];
    for (const f of mine) {
      lines.push(`${indent}  {`);
      lines.push(`${indent}    foreignKeyName: ${JSON.stringify(f.name)};`);
      lines.push(`${indent}    columns: [${f.columns.map((c) => JSON.stringify(c)).join(', ')}];`);
      lines.push(`${indent}    isOneToOne: ${f.one_to_one};`);
      lines.push(`${indent}    referencedRelation: ${JSON.stringify(f.referenced)};`);
      lines.push(`${indent}    referencedColumns: [${f.referenced_columns.map((c) => JSON.stringify(c)).join(', ')}];`);
      lines.push(`${indent}  },`);
    }
    lines.push(`${indent}];`);
    return lines;
  };
  const section = (name: 'Tables' | 'Views', kinds: string[]) => {
    const entries = [...relations].filter(([, r]) => kinds.includes(r.kind));
    if (entries.length === 0) return w(`    ${name}: {\n      [_ in never]: never;\n    };`);
    w(`    ${name}: {`);
    for (const [table, r] of entries) {
      const all = columns.filter((c) => c.table === table);
      w(`      ${key(table)}: {`);
      w('        Row: {');
      for (const c of r.columns) w(`          ${key(c.column)}: ${columnType(c, enumNames)}${c.not_null ? '' : ' | null'};`);
      w('        };');
      if (name === 'Tables') {
        const insertable = all.filter((c) => c.may_insert);
        const updatable = all.filter((c) => c.may_update);
        w('        Insert: {');
        if (insertable.length === 0) w('          [_ in never]: never;');
        for (const c of insertable) {
          const optional = !c.not_null || c.has_default || c.identity !== '' || c.generated !== '';
          w(`          ${key(c.column)}${optional ? '?' : ''}: ${c.generated !== '' || c.identity === 'a' ? 'never' : `${columnType(c, enumNames)}${c.not_null ? '' : ' | null'}`};`);
        }
        w('        };');
        w('        Update: {');
        if (updatable.length === 0) w('          [_ in never]: never;');
        for (const c of updatable) w(`          ${key(c.column)}?: ${c.generated !== '' || c.identity === 'a' ? 'never' : `${columnType(c, enumNames)}${c.not_null ? '' : ' | null'}`};`);
        w('        };');
      }
      for (const l of relationshipLines(table, '        ')) w(l);
      w('      };');
    }
    w('    };');
  };
  section('Tables', ['r', 'p']);
  section('Views', ['v', 'm']);
  if (functions.length === 0) {
    w('    Functions: {\n      [_ in never]: never;\n    };');
  } else {
    w('    Functions: {');
    const byName = new Map<string, typeof functions>();
    for (const f of functions) byName.set(f.name, [...(byName.get(f.name) ?? []), f]);
    for (const [name, overloads] of byName) {
      const shapes = overloads.map((f) => {
        const args = f.arg_types.map((t, i) => `${key(f.arg_names?.[i] || `arg${i}`)}: ${columnType({ type: t, type_kind: f.arg_kinds[i]!, category: f.arg_cats[i]!, elem: f.arg_elems[i] ?? null, elem_kind: null }, enumNames)}`);
        const ret = columnType({ type: f.ret, type_kind: f.ret_kind, category: f.ret_cat, elem: f.ret_elem, elem_kind: null }, enumNames);
        return `{ Args: ${args.length ? `{ ${args.join('; ')} }` : 'never'}; Returns: ${f.set ? `${ret}[]` : ret} }`;
      });
      w(`      ${key(name)}: ${shapes.join(' | ')};`);
    }
    w('    };');
  }
  if (enums.size === 0) {
    w('    Enums: {\n      [_ in never]: never;\n    };');
  } else {
    w('    Enums: {');
    for (const [name, values] of enums) w(`      ${key(name)}: ${values.map((v) => JSON.stringify(v)).join(' | ')};`);
    w('    };');
  }
  w('    CompositeTypes: {\n      [_ in never]: never;\n    };');
  w('  };');
  w('};');
  w('');
  w('type PublicSchema = Database["public"];');
  w('');
  w('/** A table\'s or view\'s row: Tables<"logs">. */');
  w('export type Tables<T extends keyof (PublicSchema["Tables"] & PublicSchema["Views"])> = (PublicSchema["Tables"] & PublicSchema["Views"])[T] extends { Row: infer R } ? R : never;');
  w('export type TablesInsert<T extends keyof PublicSchema["Tables"]> = PublicSchema["Tables"][T] extends { Insert: infer I } ? I : never;');
  w('export type TablesUpdate<T extends keyof PublicSchema["Tables"]> = PublicSchema["Tables"][T] extends { Update: infer U } ? U : never;');
  w('export type Enums<T extends keyof PublicSchema["Enums"]> = PublicSchema["Enums"][T];');
  w('');
  w(`export const Constants = {\n  public: {\n    Enums: {${enums.size ? `\n${[...enums].map(([n, v]) => `      ${key(n)}: [${v.map((x) => JSON.stringify(x)).join(', ')}],`).join('\n')}\n    ` : ''}},\n  },\n} as const;`);
  return `${out.join('\n')}\n`;
}

/** The types of a fresh database migrated in memory (PGlite: bootstrap, then every migration). */
export async function generateFromMigrations(): Promise<string> {
  const db = createPgliteDb(new PGlite());
  try {
    await migrateDb(db, { mode: 'embedded' });
    return await generateDbTypes(db);
  } finally {
    await db.close();
  }
}

async function main() {
  const text = await generateFromMigrations();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(DB_TYPES_FILE, 'utf8');
    } catch {
      // missing: differs
    }
    if (current !== text) {
      console.error(`${DB_TYPES_FILE} is out of date: run npm run gen:db-types`);
      process.exit(1);
    }
    console.log(`${DB_TYPES_FILE} is up to date`);
    return;
  }
  mkdirSync(dirname(DB_TYPES_FILE), { recursive: true });
  writeFileSync(DB_TYPES_FILE, text);
  console.log(`wrote ${DB_TYPES_FILE}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
