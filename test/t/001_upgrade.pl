# Versions: install 1.1 (the base script) with data in every table that holds user data,
# update to the default version, and compare the catalog with a fresh
# install: the same functions (signatures, results, security, settings,
# privileges), types, tables, columns, constraints, indexes and grants.
# The data must survive the update, and DROP EXTENSION must leave nothing.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 'test/lib';
use PitrTest;

my ($node, $archive) = new_primary(name => 'upgrade');
$node->safe_psql('postgres', 'DROP EXTENSION pitr_restore');
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('postgres', 'CREATE DATABASE fresh');

my $default = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'pitr_restore'");

$node->safe_psql('old', q{
CREATE EXTENSION pitr_restore VERSION '1.1';
CREATE TABLE settings (id int PRIMARY KEY, mail_enabled boolean);
INSERT INTO settings VALUES (1, true);
SELECT pitr_restore.create_mark('before upgrade', 'kept across the update');
SELECT pitr_restore.add_cleanup_hook('mail_off', 'set_column',
	'{"table": "public.settings", "set": {"mail_enabled": false}}', 10, 'e-mail off');
SELECT pitr_restore.run_cleanup(dry_run => true);
SELECT pitr_restore.scan_archive();
});

# What the update must keep: the user's rows, as text.
my $user_data = q{
SELECT 'mark', name, kind, description FROM pitr_restore.marks
UNION ALL
SELECT 'hook', name, action, options::text FROM pitr_restore.cleanup_hook
UNION ALL
SELECT 'archive', directory, NULL, NULL FROM pitr_restore.archive
ORDER BY 1, 2};
my $before = $node->safe_psql('old', $user_data);

$node->safe_psql('old', 'ALTER EXTENSION pitr_restore UPDATE');
$node->safe_psql('fresh', 'CREATE EXTENSION pitr_restore');

is($node->safe_psql('old',
	"SELECT extversion FROM pg_extension WHERE extname = 'pitr_restore'"),
	$default, 'ALTER EXTENSION UPDATE reaches the default version');
is($node->safe_psql('old', $user_data), $before,
	'marks, hooks and archive rows survive the update');
like($before, qr/before upgrade/, 'the data checked is really there');

# Every object of the extension, described in one line each.
my $catalog = q{
WITH members AS (
	SELECT classid, objid FROM pg_depend
	 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pitr_restore')),
rels AS (
	SELECT c.* FROM members m
	  JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid)
SELECT 'function ' || p.oid::regprocedure || ' -> ' || pg_get_function_result(p.oid)
	   || ' lang=' || l.lanname || ' vol=' || p.provolatile::text || ' strict=' || p.proisstrict
	   || ' secdef=' || p.prosecdef || ' config=' || coalesce(p.proconfig::text, '')
	   || ' acl=' || coalesce(p.proacl::text, 'default')
	   || ' args=' || pg_get_function_arguments(p.oid)
	   || ' body=' || md5(coalesce(p.prosrc, '') || coalesce(p.probin, ''))
  FROM members m JOIN pg_proc p ON m.classid = 'pg_proc'::regclass AND p.oid = m.objid
  JOIN pg_language l ON l.oid = p.prolang
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text
	   || ' acl=' || coalesce(c.relacl::text, 'default')
  FROM rels c
UNION ALL
SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
	   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
	   || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
	   || ' acl=' || coalesce(a.attacl::text, 'default')
  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
UNION ALL
SELECT 'constraint ' || co.conrelid::regclass || ' ' || pg_get_constraintdef(co.oid)
  FROM rels c JOIN pg_constraint co ON co.conrelid = c.oid
UNION ALL
SELECT 'index ' || regexp_replace(pg_get_indexdef(i.indexrelid), 'INDEX \S+ ON', 'INDEX ON')
  FROM rels c JOIN pg_index i ON i.indrelid = c.oid
UNION ALL
SELECT 'type ' || t.oid::regtype || ' kind=' || t.typtype::text
	   || ' acl=' || coalesce(t.typacl::text, 'default')
  FROM members m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(tg.oid)
  FROM rels c JOIN pg_trigger tg ON tg.tgrelid = c.oid AND NOT tg.tgisinternal
UNION ALL
SELECT 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, 'default')
  FROM pg_namespace n WHERE n.nspname LIKE 'pitr_restore%'
UNION ALL
SELECT 'extension namespace ' || e.extnamespace::regnamespace || ' config='
	   || coalesce((SELECT string_agg(x::regclass::text, ',' ORDER BY x::regclass::text)
					  FROM unnest(e.extconfig) x), '')
  FROM pg_extension e WHERE e.extname = 'pitr_restore'
ORDER BY 1};

my $upgraded = $node->safe_psql('old', $catalog);
my $fresh    = $node->safe_psql('fresh', $catalog);
ok(length($fresh) > 1000, 'the catalog description is not empty');
if ($upgraded ne $fresh)
{
	# Show only what differs, line by line.
	my %u = map { $_ => 1 } split /\n/, $upgraded;
	my %f = map { $_ => 1 } split /\n/, $fresh;
	diag("only after update: $_") for grep { !$f{$_} } sort keys %u;
	diag("only in a fresh install: $_") for grep { !$u{$_} } sort keys %f;
}
is($upgraded, $fresh, 'an updated 1.1 has exactly the objects of a fresh install');

# Dropping the extension leaves no schema and no object behind.
$node->safe_psql('fresh', 'DROP EXTENSION pitr_restore');
is($node->safe_psql('fresh',
	"SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'pitr_restore%'"),
	'0', 'DROP EXTENSION leaves no pitr_restore schema behind');

done_testing();
