/**
 * prctl's syscall number by Node architecture name: the wrapper calls it through perl's `syscall`, since neither
 * Node nor perl-base has a prctl binding.
 */
export const PRCTL_SYSCALL: Readonly<Partial<Record<string, number>>> = { x64: 157, arm64: 167, riscv64: 167, loong64: 167, arm: 172, ia32: 172, s390x: 172, ppc64: 171 };

/**
 * The perl program (perl-base is Essential on Debian and present on nearly every Linux) that contains one process:
 * `perl -e WRAPPER PRCTL_NR GRACE_MS DAIMON_PID FILE ARGS…`. It makes itself a child subreaper (PR_SET_CHILD_SUBREAPER = 36),
 * so every process its command starts — setsid or double-forked — is re-parented to it rather than to init when its
 * parent dies, and stays below it in the process tree. It runs the command; when the command exits or the wrapper
 * gets SIGTERM, it sends SIGTERM to every process below it, SIGKILL after the grace, reaps them all, and exits only
 * when none is left, with the command's exit status (a signal is re-raised). Its own exit therefore means "all gone".
 * Should the daimon die, the kernel sends the wrapper SIGTERM (PR_SET_PDEATHSIG), so the scope does not outlive it.
 */
export const SUBREAPER_WRAPPER = String.raw`
use strict; use POSIX ();
my ($nr, $grace, $daimon) = splice(@ARGV, 0, 3);
if (syscall($nr, 36, 1, 0, 0, 0) != 0) { print STDERR "okesu: cannot become a child subreaper: $!\n"; exit 125 }
my $stop = 0;
$SIG{TERM} = sub { $stop = 1 };
# PR_SET_PDEATHSIG: should the daimon die, SIGTERM ends this scope too (and if it already has, end now).
syscall($nr, 1, 15, 0, 0, 0);
exit 125 if getppid() != $daimon;
my $main = fork;
if (!defined $main) { print STDERR "okesu: cannot fork: $!\n"; exit 125 }
if ($main == 0) {
  $SIG{TERM} = 'DEFAULT';
  exec { $ARGV[0] } @ARGV;
  print STDERR "okesu: cannot run $ARGV[0]: $!\n";
  POSIX::_exit(127);
}
sub below {
  my %parent;
  opendir(my $d, '/proc') or return ();
  for my $p (grep { /^\d+$/ } readdir $d) {
    open(my $f, '<', "/proc/$p/stat") or next;
    my $s = <$f> // next;
    $parent{$p} = $1 if substr($s, rindex($s, ')')) =~ /\)\s+\S+\s+(\d+)/;
  }
  my %in = ($$ => 1); my @out; my $grew = 1;
  while ($grew) { $grew = 0; for my $p (keys %parent) { next if $in{$p} || !$in{$parent{$p}}; $in{$p} = 1; push @out, $p; $grew = 1 } }
  return @out;
}
# perl-base has no high-resolution clock: the grace is counted in 50 ms naps (never shorter than asked).
my ($status, $left);
while (1) {
  my $none = 0;
  while (1) {
    my $w = waitpid(-1, POSIX::WNOHANG());
    if ($w == $main) { $status = $? } elsif ($w == -1) { $none = 1; last } elsif ($w == 0) { last }
  }
  if (!defined $left && (defined $status || $stop)) { $left = int($grace / 50); kill 'TERM', below() }
  last if $none;
  kill 'KILL', below() if defined $left && $left-- <= 0;
  select(undef, undef, undef, defined $left ? 0.05 : 0.025);
}
$status //= 0;
if ($status & 127) { my $sig = $status & 127; POSIX::sigaction($sig, POSIX::SigAction->new('DEFAULT')); kill $sig, $$; exit 128 + $sig }
exit $status >> 8;
`;
