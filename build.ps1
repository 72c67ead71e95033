#!/usr/bin/env pwsh
# EpgFast build script. Run through the repo's local PowerShell tool:
#   dotnet tool restore && dotnet pwsh ./build.ps1 <target> [-- extra args]
# Targets: deps, build, test, bench, main (the main job: epg train --env goal-ant --preset quick), train, eval, info, selfcheck
# No param block: every argument after the target goes to the verb untouched (an optional leading
# `--` is dropped), so `build.ps1 eval --loss X --targets left` works as it reads.
$Target = if ($args.Count -gt 0) { [string]$args[0] } else { 'build' }
[string[]]$Rest = if ($args.Count -gt 1) { $args[1..($args.Count - 1)] } else { @() }
if ($Rest.Count -gt 0 -and $Rest[0] -eq '--') { $Rest = if ($Rest.Count -gt 1) { $Rest[1..($Rest.Count - 1)] } else { @() } }
$Configuration = if ($env:EPG_CONFIGURATION) { $env:EPG_CONFIGURATION } else { 'Release' }
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$cli = Join-Path $root 'src/EpgFast.Cli/EpgFast.Cli.csproj'

# Debian packages the tests and the MuJoCo backend need.
$aptPackages = @('libmujoco2.2.2', 'libmujoco-dev', 'libmujoco-samples', 'gcc')

function Invoke-Checked([string]$exe, [string[]]$arguments) {
    Write-Host "> $exe $($arguments -join ' ')"
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "$exe exited with code $LASTEXITCODE" }
}

function Install-Deps {
    $missing = @($aptPackages | Where-Object {
        $status = & dpkg-query -W -f='${Status}' $_ 2>$null
        -not ($LASTEXITCODE -eq 0 -and "$status" -match 'install ok installed')
    })
    if ($missing.Count -eq 0) { Write-Host "deps: all apt packages present ($($aptPackages -join ', '))"; return }
    $cmd = "apt-get update && apt-get install -y $($missing -join ' ')"
    $uid = (& id -u)
    if ($uid -eq '0') {
        Write-Host "deps: installing $($missing -join ', ')"
        & bash -c "export DEBIAN_FRONTEND=noninteractive; $cmd"
        if ($LASTEXITCODE -ne 0) { throw "apt-get failed installing $($missing -join ', ')" }
    } else {
        Write-Host "deps: missing apt packages; run as root:"
        Write-Host "  sudo sh -c '$cmd'"
        exit 1
    }
}

function Invoke-Epg([string[]]$arguments) {
    Invoke-Checked 'dotnet' (@('run', '--project', $cli, '-c', $Configuration, '--') + $arguments)
}

switch ($Target) {
    'deps' { Install-Deps }
    'build' { Invoke-Checked 'dotnet' @('build', (Join-Path $root 'EpgFast.sln'), '-c', $Configuration) }
    'test' {
        Install-Deps
        $logger = @('--logger', 'console;verbosity=normal')
        Invoke-Checked 'dotnet' (@('test', (Join-Path $root 'EpgFast.sln'), '-c', $Configuration) + $logger + $Rest)
    }
    'bench' {
        Invoke-Checked 'dotnet' (@('run', '--project', (Join-Path $root 'bench/EpgFast.Bench/EpgFast.Bench.csproj'), '-c', 'Release', '--') + $Rest)
    }
    'info' { Invoke-Epg (@('info') + $Rest) }
    'selfcheck' { Invoke-Epg (@('selfcheck') + $Rest) }
    'main' {
        # The main job: evolve a GoalAnt loss with the quick preset into a fresh run directory.
        $out = Join-Path 'runs' ("quick-" + (Get-Date -Format 'yyyyMMdd-HHmmss'))
        Invoke-Epg (@('train', '--env', 'goal-ant', '--preset', 'quick', '--out', $out) + $Rest)
    }
    'train' { Invoke-Epg (@('train') + $Rest) }
    'eval' { Invoke-Epg (@('eval') + $Rest) }
    default { throw "unknown target '$Target' (deps, build, test, bench, main, train, eval, info, selfcheck)" }
}
